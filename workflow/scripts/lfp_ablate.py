from prefscope.lfp.ablation.stage import lfp_ablate
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_ablate)
