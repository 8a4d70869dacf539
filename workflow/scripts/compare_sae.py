from prefscope.compare.stage import compare_sae
from prefscope.workflow import run_stage

run_stage(snakemake, compare_sae)
