from prefscope.lfp_probe.probe_stage import stage
from prefscope.workflow import run_stage

run_stage(snakemake, stage)
