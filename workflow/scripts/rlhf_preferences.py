from prefscope.rlhf.stages import preferences_stage
from prefscope.workflow import run_stage

run_stage(snakemake, preferences_stage)
