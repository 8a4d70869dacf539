# Branch L, fine-tune: demo corpus, base model, preference table and the RLHF/DPO policy
# per run. Stages: prefscope.lfp.finetune.stage; settings: config["lfp"] (schema defaults =
# the paper's).


include: "helpers/lfp_finetune.smk"


rule lfp_corpus:
    output:
        sentences="results/lfp/corpus/sentences.parquet",
        prefixes="results/lfp/corpus/prefixes.parquet",
    log:
        "logs/lfp/corpus.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        corpus=config["lfp"]["corpus"],
        code=script_code("lfp_corpus.py"),
    script:
        "../scripts/lfp_corpus.py"


rule lfp_base:
    input:
        unpack(lfp_base_inputs),
    output:
        base=directory("results/lfp/base"),
    log:
        "logs/lfp/base.log",
    benchmark:
        "results/benchmarks/lfp/base.tsv"
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=attempt_scaled(16000),
        runtime=attempt_scaled(240),
    params:
        base_model=config["lfp"]["base_model"],
        tiny_neox=(
            config["lfp"]["tiny_neox"]
            if config["lfp"]["base_model"] == "tiny-neox"
            else None
        ),
        code=script_code("lfp_base.py"),
    script:
        "../scripts/lfp_base.py"


rule lfp_preferences:
    input:
        unpack(lfp_preference_source),
    output:
        preferences="results/lfp/{run}/preferences.parquet",
        info="results/lfp/{run}/preferences.json",
    log:
        "logs/lfp/{run}/preferences.log",
    conda:
        "../../envs/cpu.yaml"
    threads: 1
    params:
        source=lambda wc: lfp_run(wc)["preferences"],
        format=lambda wc: lfp_run(wc)["preference_format"],
        seed=lambda wc: lfp_run(wc)["seed"],
        split=lambda wc: {
            k: lfp_run(wc)["dpo"][k] for k in ("eval_fraction", "max_eval_pairs")
        },
        code=script_code("lfp_preferences.py"),
    script:
        "../scripts/lfp_preferences.py"


rule lfp_rlhf:
    input:
        unpack(lfp_train_inputs),
    output:
        policy=directory("results/lfp/{run}/policy"),
        rlhf="results/lfp/{run}/rlhf.json",
    log:
        "logs/lfp/{run}/rlhf.log",
    benchmark:
        "results/benchmarks/lfp/{run}/rlhf.tsv"
    conda:
        "../../envs/gpu.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=attempt_scaled(16000),
        runtime=attempt_scaled(240),
    params:
        run=lambda wc: wc.run,
        task=lambda wc: lfp_run(wc)["task"],
        algorithm=lambda wc: lfp_run(wc)["algorithm"],
        seed=lambda wc: lfp_run(wc)["seed"],
        base_model=config["lfp"]["base_model"],
        rl=lfp_settings("rl"),
        dpo=lfp_settings("dpo"),
        eval=lfp_settings("eval"),
        code=script_code("lfp_rlhf.py"),
    script:
        "../scripts/lfp_rlhf.py"
