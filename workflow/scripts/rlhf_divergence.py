from prefscope.rlhf.stages import divergence_stage
from prefscope.workflow import run_stage

run_stage(snakemake, divergence_stage)
