"""Stage of the ``lfp_summary`` rule: every branch-L output of a run in one summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefscope.io import write_json, write_text
from prefscope.lfp.plots import error_vs_count_plot
from prefscope.lfp.summary.markdown import markdown
from prefscope.lfp.summary.summary import build_summary


def lfp_summary(
    inputs: dict[str, Any], outputs: dict[str, Any], params: dict[str, Any], threads: int
) -> None:
    """Every branch-L output of a run -> summary.json, summary.md, error_vs_count.png."""
    summary, freq = build_summary(inputs, params["task"])
    summary["run"] = params["run"]
    write_json(outputs["summary"], summary)
    write_text(outputs["markdown"], markdown(summary))
    error_vs_count_plot(
        freq.get("counts", []),
        freq.get("abs_errors", []),
        f"{params['run']}: |error| vs generation count",
        Path(outputs["plot"]),
    )
