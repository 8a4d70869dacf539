from prefscope.compare.stage import pool
from prefscope.workflow import run_stage

run_stage(snakemake, pool)
