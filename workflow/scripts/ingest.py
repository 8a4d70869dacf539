from prefscope.data.stage import ingest
from prefscope.workflow import run_stage

run_stage(snakemake, ingest)
