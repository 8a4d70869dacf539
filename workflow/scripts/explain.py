from prefscope.interpret.explain import explain
from prefscope.workflow import run_stage

run_stage(snakemake, explain)
