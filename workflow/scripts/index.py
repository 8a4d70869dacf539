from prefscope.report.stage import index
from prefscope.workflow import run_stage

run_stage(snakemake, index)
