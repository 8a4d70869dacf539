# Input and param helpers of rules/interpret.smk only (shared ones: rules/common.smk).


def interpret_backends():
    return config["interpret"]["backend"], config["interpret"].get("annotator")


def interpret_params(keys):
    return {k: config["interpret"][k] for k in keys}


def llm_params(*backends):
    """The llm section only when a named backend is an LLM, so editing llm.* leaves offline
    (lexical) rules alone; the key never appears (backends name its environment variable).
    """
    return config["llm"] if any(b and b != "lexical" for b in backends) else None


def llm_cache_param(*backends):
    """The LLM cache path only for rules that call an LLM (not for lexical backends)."""
    return llm_cache() if llm_params(*backends) is not None else None
