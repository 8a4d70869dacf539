from prefscope.analyze.reward_model import reward_model
from prefscope.workflow import run_stage

run_stage(snakemake, reward_model)
