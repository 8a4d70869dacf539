# Input and param helpers of rules/lfp_probe.smk only (shared ones: rules/common.smk).


def lfp_triples_llm(wildcards):
    """LLM settings for rewrite triples (preference runs with triples.rewrite_backend)."""
    backend = rewrite_backend()
    if lfp_task(wildcards) == "vader" or not backend:
        return None
    return {
        "llm": config["llm"],
        "cache_path": llm_cache(),
        "task_description": config["lfp"]["validation"]["task_description"][
            lfp_task(wildcards)
        ],
    }


def rewrite_backend():
    """The LLM that writes contrastive triples for preference runs (None: none)."""
    return config["lfp"]["triples"]["rewrite_backend"]
