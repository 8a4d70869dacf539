from prefscope.lfp_probe.validation import stage
from prefscope.workflow import run_stage

run_stage(snakemake, stage)
