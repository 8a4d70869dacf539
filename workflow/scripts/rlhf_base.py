from prefscope.rlhf.stages import base_stage
from prefscope.workflow import run_stage

run_stage(snakemake, base_stage)
