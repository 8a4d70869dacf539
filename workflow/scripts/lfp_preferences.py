from prefscope.lfp.finetune.stage import lfp_preferences
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_preferences)
