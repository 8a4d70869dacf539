from prefscope.lfp.validation.stage import lfp_validate
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_validate)
