"""run_stage passes the workflow config only to stages that ask for it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prefscope.workflow import run_stage, stage_kwargs


class _Named(list):
    """The part of Snakemake's Namedlist that run_stage uses."""

    def __init__(self, **named: Any) -> None:
        super().__init__(named.values())
        self._named = named

    def items(self):
        return self._named.items()


def _smk(tmp_path) -> SimpleNamespace:
    return SimpleNamespace(
        input=_Named(pairs="in.parquet"),
        output=_Named(table="out.parquet"),
        params=_Named(seed=3),
        threads=2,
        log=[str(tmp_path / "job.log")],
        rule="fake",
        config={"embed": {"batch_size": 8}},
    )


def test_stage_without_config_gets_the_four_arguments(tmp_path):
    seen: dict[str, Any] = {}

    def plain(inputs, outputs, params, threads):
        seen.update(inputs=inputs, outputs=outputs, params=params, threads=threads)

    run_stage(_smk(tmp_path), plain)
    assert seen == {
        "inputs": {"pairs": "in.parquet"},
        "outputs": {"table": "out.parquet"},
        "params": {"seed": 3},
        "threads": 2,
    }
    assert "done" in (tmp_path / "job.log").read_text()


def test_stage_with_config_gets_the_workflow_config(tmp_path):
    seen: dict[str, Any] = {}

    def runtime_aware(inputs, outputs, params, threads, config=None):
        seen.update(config=config, params=params)

    run_stage(_smk(tmp_path), runtime_aware)
    assert seen == {"config": {"embed": {"batch_size": 8}}, "params": {"seed": 3}}
    assert isinstance(seen["config"], dict)


def test_stage_kwargs_leaves_config_out_for_plain_stages(tmp_path):
    def plain(inputs, outputs, params, threads):
        pass

    assert "config" not in stage_kwargs(_smk(tmp_path), plain)
