from prefscope.compare.stage import train
from prefscope.workflow import run_stage

run_stage(snakemake, train)
