from prefscope.analyze.stage import reward_model
from prefscope.workflow import run_stage

run_stage(snakemake, reward_model)
