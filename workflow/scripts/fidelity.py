from prefscope.interpret.fidelity import fidelity
from prefscope.workflow import run_stage

run_stage(snakemake, fidelity)
