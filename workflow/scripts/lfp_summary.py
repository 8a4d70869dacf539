from prefscope.lfp.summary.stage import lfp_summary
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_summary)
