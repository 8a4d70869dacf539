from prefscope.report.stage import report
from prefscope.workflow import run_stage

run_stage(snakemake, report)
