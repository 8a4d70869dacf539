from prefscope.report.stage import lfp_report
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_report)
