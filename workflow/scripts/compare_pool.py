from prefscope.compare.stage import compare_pool
from prefscope.workflow import run_stage

run_stage(snakemake, compare_pool)
