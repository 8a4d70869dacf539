from prefscope.data.stage import demo_pairs
from prefscope.workflow import run_stage

run_stage(snakemake, demo_pairs)
