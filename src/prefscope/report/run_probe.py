"""The probe section of a branch-L run's page: does the model represent the feedback?

Its headline numbers with every control beside them (base model, untrained probe,
sign-only baseline); part of :func:`prefscope.report.run_page.run_page`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefscope.report.page import (
    Markup,
    ci,
    extras,
    fmt,
    inline_png,
    kv_table,
    render_value,
)

_PROBE_LAYOUT = (
    "kendall",
    "within_sign_kendall",
    "sign_only_baseline_kendall",
    "controls",
    "baseline_kendall",
    "sign_accuracy",
    "negative_only_kendall",
    "accuracy_test",
    "accuracy_train",
    "majority_baseline_test",
)


def _kendall_rows(probe: dict[str, Any]) -> list[tuple[str, Any]]:
    """Rank agreement with the lexicon: within each sign (the headline), pooled, sign-only."""
    rows: list[tuple[str, Any]] = []
    k = probe.get("kendall")
    within = probe.get("within_sign_kendall")
    if isinstance(within, dict):  # the headline: pooled τ rewards the sign alone
        for sign in ("positive", "negative"):
            w = within.get(sign) or {}
            rows.append(
                (
                    f"Kendall τ within {sign} words (held-out)",
                    Markup(
                        f"<b>{fmt(w.get('tau'))}</b> (p = {fmt(w.get('p'), 2)}, "
                        f"{fmt(w.get('n_words'))} words)"
                    ),
                )
            )
    if isinstance(k, dict):
        rows.append(
            (
                "Kendall τ, probe vs lexicon (held-out words)",
                Markup(
                    f"<b>{fmt(k.get('tau'))}</b> (p = {fmt(k.get('p'), 2)}, "
                    f"{fmt(k.get('n_words'))} words)"
                ),
            )
        )
    so = probe.get("sign_only_baseline_kendall")
    if isinstance(so, dict):
        rows.append(
            ("control: sign-only baseline (outputs sign of lexicon value), τ", so.get("tau"))
        )
    return rows


def _base_model_rows(probe: dict[str, Any]) -> list[tuple[str, Any]]:
    """The base-model control: the same probe on the model before fine-tuning."""
    rows: list[tuple[str, Any]] = []
    base = (probe.get("controls") or {}).get("base_model") or {}
    for label, d in (
        ("pooled τ", base.get("kendall")),
        ("τ within positive words", (base.get("within_sign_kendall") or {}).get("positive")),
        ("τ within negative words", (base.get("within_sign_kendall") or {}).get("negative")),
        ("held-out accuracy", base.get("accuracy_test")),
    ):
        if isinstance(d, dict):
            pol = d.get("tau_policy", d.get("accuracy_policy"))
            bas = d.get("tau_base", d.get("accuracy_base"))
            rows.append(
                (
                    f"control: base model, {label} (policy / base, difference [95% CI])",
                    Markup(
                        f"{fmt(pol)} / {fmt(bas)}, {fmt(d.get('difference'))} "
                        f"{ci(*(d.get('ci95') or [None, None]))}"
                    ),
                )
            )
    if base.get("statement"):
        rows.append(("base-model control, in words", base.get("statement")))
    return rows


def _accuracy_rows(probe: dict[str, Any]) -> list[tuple[str, Any]]:
    """Untrained-probe control, sign accuracy, negative words only, logistic accuracy."""
    b = probe.get("baseline_kendall")
    rows: list[tuple[str, Any]] = []
    if isinstance(b, dict):
        rows.append(
            (
                "control: untrained Xavier-initialised probe, τ",
                Markup(f"{fmt(b.get('tau'))} (p = {fmt(b.get('p'), 2)})"),
            )
        )
    s = probe.get("sign_accuracy")
    if isinstance(s, dict):
        rows.append(
            (
                "sign accuracy (positive / negative words)",
                Markup(f"{fmt(s.get('positive'))} / {fmt(s.get('negative'))}"),
            )
        )
    n = probe.get("negative_only_kendall")
    if isinstance(n, dict):
        rows.append(
            ("τ on negative words only", Markup(f"{fmt(n.get('tau'))} (p = {fmt(n.get('p'), 2)})"))
        )
    if "accuracy_test" in probe:
        rows.append(("logistic accuracy, held-out pairs", probe.get("accuracy_test")))
        rows.append(("control: majority class, held-out", probe.get("majority_baseline_test")))
        rows.append(("logistic accuracy, train", probe.get("accuracy_train")))
    return rows


def probe_section(
    summary: dict[str, Any], pca: str | Path | None, error_plot: str | Path | None
) -> str:
    probe = summary.get("probe") or {}
    rows = _kendall_rows(probe) + _base_model_rows(probe) + _accuracy_rows(probe)
    shown = {
        "within_sign_kendall",
        "sign_only_baseline_kendall",
        "base_model",
        "ablation_matched_random",
        "table7_matched_features",
    }
    controls = {k: v for k, v in (summary.get("controls") or {}).items() if k not in shown}
    figs = "".join(
        inline_png(f, c)
        for f, c in (
            (pca, "Probe inputs on their first two principal components."),
            (error_plot, "Probe |error| per word vs how often the policy generates it."),
        )
        if f
    )
    return (
        "<h2 id='probe'>Probe: does the model represent the feedback?</h2>"
        + kv_table(rows)
        + (f"<p>Controls:</p>{render_controls(controls)}" if controls else "")
        + extras(probe, _PROBE_LAYOUT)
        + f"<div class='figs'>{figs}</div>"
    )


def render_controls(controls: Any) -> str:
    """Controls added by other stages: a dict of name -> record, shown as a table."""
    if isinstance(controls, dict):
        return kv_table([(k, Markup(render_value(v))) for k, v in controls.items()])
    return render_value(controls)
