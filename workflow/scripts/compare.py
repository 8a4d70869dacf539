from prefscope.compare.stage import compare
from prefscope.workflow import run_stage

run_stage(snakemake, compare)
