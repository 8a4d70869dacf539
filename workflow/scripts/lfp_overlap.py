from prefscope.lfp.saes.stage import lfp_overlap
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_overlap)
