from prefscope.lfp.probe.stage import lfp_triples
from prefscope.workflow import run_stage

run_stage(snakemake, lfp_triples)
