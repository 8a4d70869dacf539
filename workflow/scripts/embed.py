from functools import partial

from prefscope.embed.stage import embed
from prefscope.workflow import run_stage

# The embed: config at run time: how vectors are fetched (batching, retries, key variable).
run_stage(snakemake, partial(embed, runtime=snakemake.config["embed"]))
