from prefscope.lfp_probe.saes import overlap_stage
from prefscope.workflow import run_stage

run_stage(snakemake, overlap_stage)
