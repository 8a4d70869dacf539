from prefscope.lfp.harvest.stage import lfp_harvest
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_harvest)
