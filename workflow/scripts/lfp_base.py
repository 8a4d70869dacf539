from prefscope.lfp.finetune.stage import lfp_base
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_base)
