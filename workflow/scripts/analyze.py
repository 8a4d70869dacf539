from prefscope.analyze.stage import analyze
from prefscope.workflow import run_stage

run_stage(snakemake, analyze)
