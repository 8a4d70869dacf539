from prefscope.report.run_page import stage
from prefscope.workflow import run_stage

run_stage(snakemake, stage)
