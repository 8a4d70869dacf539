from prefscope.rlhf.stages import corpus_stage
from prefscope.workflow import run_stage

run_stage(snakemake, corpus_stage)
