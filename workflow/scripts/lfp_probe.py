from prefscope.lfp.probe.stage import lfp_probe
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_probe)
