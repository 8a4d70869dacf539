from prefscope.lfp_probe.triples import stage
from prefscope.workflow import run_stage

run_stage(snakemake, stage)
