from prefscope.embed.stage import embed
from prefscope.workflow import run_stage

run_stage(snakemake, embed)
