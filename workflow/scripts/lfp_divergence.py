from prefscope.lfp.layers.stage import lfp_divergence
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_divergence)
