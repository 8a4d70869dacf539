from prefscope.lfp_probe.saes import train_stage
from prefscope.workflow import run_stage

run_stage(snakemake, train_stage)
