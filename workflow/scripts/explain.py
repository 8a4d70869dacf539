from prefscope.interpret.stage import explain
from prefscope.workflow import run_stage

run_stage(snakemake, explain)
