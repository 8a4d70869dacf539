from prefscope.lfp_probe.deltas import stage
from prefscope.workflow import run_stage

run_stage(snakemake, stage)
