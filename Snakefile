# prefscope: explain human feedback.
# Branch W: what a preference dataset rewards; branch L: what a model learned from it.
from snakemake.utils import min_version

min_version("9.12")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/sae.smk"
include: "workflow/rules/interpret.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/lfp_finetune.smk"
include: "workflow/rules/lfp_layers.smk"
include: "workflow/rules/lfp_harvest.smk"
include: "workflow/rules/lfp_saes.smk"
include: "workflow/rules/lfp_probe.smk"
include: "workflow/rules/lfp_validation.smk"
include: "workflow/rules/lfp_ablation.smk"
include: "workflow/rules/lfp_summary.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
