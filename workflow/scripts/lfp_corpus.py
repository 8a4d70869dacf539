from prefscope.lfp.finetune.stage import lfp_corpus
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_corpus)
