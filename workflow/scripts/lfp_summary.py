from prefscope.lfp_probe.summary import stage
from prefscope.workflow import run_stage

run_stage(snakemake, stage)
