from prefscope.sae.stage import train_sae
from prefscope.workflow import run_stage

run_stage(snakemake, train_sae)
