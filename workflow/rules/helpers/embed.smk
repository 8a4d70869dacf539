# Input and param helpers of rules/embed.smk only (shared ones: rules/common.smk).


def embed_cache():
    return os.path.join(config["embed"]["cache_dir"], "embeddings.sqlite")


def embed_gpus(wildcards):
    """A vLLM engine takes its GPUs; an endpoint none; local models one unless pinned to cpu."""
    kind = embed_kind(config["embed"]["model"])
    if kind == "openai":
        return 0
    if kind == "vllm":
        return config["embed"]["vllm"]["tensor_parallel_size"]
    return 0 if config["embed"]["device"] == "cpu" else 1


def embed_backend_params():
    """Only the settings that change the vectors of the configured kind of model; batch
    size, concurrency, retries, key variable and budget are read at run time and re-run
    nothing."""
    e = config["embed"]
    kind = embed_kind(e["model"])
    if kind == "openai":
        keys = ("base_url", "dimensions", "max_input_tokens")
    elif kind == "vllm":
        keys = ("revision", "dimensions", "max_input_tokens", "vllm")
    else:
        keys = ("revision", "batch_size", "device")
    out = {k: e[k] for k in keys}
    if "vllm" in out:
        out["engine"] = out.pop("vllm")
    return out
