# Input and param helpers of rules/lfp_validation.smk only (shared ones: rules/common.smk).


def validation_backend():
    return config["lfp"]["validation"]["backend"]


def lfp_validation_params():
    validation = dict(config["lfp"]["validation"])
    if validation["backend"] != "lexical":
        validation["llm"] = config["llm"]
        validation["cache_path"] = llm_cache()
    return validation
