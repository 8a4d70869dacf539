from prefscope.data.stage import fetch_source
from prefscope.workflow import run_stage

run_stage(snakemake, fetch_source)
