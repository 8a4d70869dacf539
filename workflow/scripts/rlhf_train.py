from prefscope.rlhf.stages import rlhf_stage
from prefscope.workflow import run_stage

run_stage(snakemake, rlhf_stage)
