from prefscope.lfp.saes.stage import lfp_sae
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_sae)
