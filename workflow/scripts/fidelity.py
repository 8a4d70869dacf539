from prefscope.interpret.stage import fidelity
from prefscope.workflow import run_stage

run_stage(snakemake, fidelity)
