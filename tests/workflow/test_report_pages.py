"""The demo's report pages, opened in a real headless Chromium, and the feature orientation.

Reuses the session's demo run (``demo_run``); nothing here runs the workflow again. The XSS
and orientation checks rebuild pages with the library's page builders from the demo's own
outputs (a few seconds each), never by re-running Snakemake.

Screenshots of the four pages go to ``results/screenshots/`` of the checkout (git-ignored) so
a reviewer can look at them after a test run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from helpers import browser
from smkapi import REPO

pytestmark = pytest.mark.e2e

PAGES = {
    "index": "results/index.html",
    "demo": "results/demo/report.html",
    "vader": "results/lfp/vader/report.html",
    "dpo": "results/lfp/dpo/report.html",
}
SHOTS = REPO / "results" / "screenshots"
# src/href values with a scheme or a protocol-relative host, url(...) not to a local #id
_EXTERNAL = re.compile(
    r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)|url\((?!\s*['"]?#)""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def driver():
    d = browser.start()
    yield d
    d.quit()


def _texts(driver, selector: str) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent)",
        selector,
    )


def _visible_groups(driver, table_id: str) -> list:
    return driver.execute_script(
        "return Array.from(document.getElementById(arguments[0]).tBodies).filter(g => !g.hidden)",
        table_id,
    )


def _column(driver, table_id: str, col: int) -> list[str]:
    """Sort keys (data-v) of column ``col`` in the order the rows are shown."""
    return driver.execute_script(
        "return Array.from(document.getElementById(arguments[0]).tBodies)"
        ".map(g => g.rows[0].cells[arguments[1]].getAttribute('data-v'))",
        table_id,
        col,
    )


def test_demo_writes_every_page_without_external_references(demo_run):
    for rel in PAGES.values():
        html = (demo_run / rel).read_text(encoding="utf-8")
        assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>"), rel
        data_free = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
        bad = [m.group() for m in _EXTERNAL.finditer(data_free)]
        # inline SVG from matplotlib uses only local references (#id)
        assert bad == [], (rel, bad[:5])
        assert "<script src" not in html and "<link" not in html, rel


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_with_no_console_error_and_no_request_outside(demo_run, driver, name):
    path = demo_run / PAGES[name]
    visit = browser.visit(driver, path)
    assert visit.errors == [], visit.errors
    assert visit.outside == [], visit.outside
    assert visit.requests and visit.requests[0] == path.resolve().as_uri()
    shot = browser.screenshot(driver, SHOTS / f"{name}.png")
    # a rendered page has text and figures: far from a uniform image
    assert browser.pixel_std(shot) > 10, shot


def test_index_links_every_dataset_and_run_with_headline_numbers(demo_run, driver):
    browser.visit(driver, demo_run / PAGES["index"])
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.card h3 a'))"
        ".map(a => a.getAttribute('href'))"
    )
    assert sorted(hrefs) == ["demo/report.html", "lfp/dpo/report.html", "lfp/vader/report.html"]
    summary = json.loads((demo_run / "results/demo/summary.json").read_text())
    card = _texts(driver, ".card.dataset")[0]
    assert f"{summary['auc']['sae_all']['val_auc']:.3g}" in card
    assert f"{summary['n_significant']} of {summary['n_features']}" in card
    vader = json.loads((demo_run / "results/lfp/vader/summary.json").read_text())
    run_card = next(t for t in _texts(driver, ".card.run") if "vader" in t)
    within = vader["within_sign_kendall"]  # the headline, beside the sign-only baseline
    assert f"{within['positive']['tau']:.3g} / {within['negative']['tau']:.3g}" in run_card
    assert f"{vader['kendall']['tau']:.3g} ({vader['sign_only_baseline_kendall']['tau']:.3g})" in (
        run_card
    )
    base = vader["base_model"]  # and the base-model control, in numbers and in words
    assert f"{base['kendall']['difference']:.3g}" in run_card and base["statement"] in run_card
    driver.find_element("link text", "demo").click()
    assert driver.current_url.endswith("results/demo/report.html")


def test_dataset_page_sorts_filters_and_expands(demo_run, driver):
    summary = json.loads((demo_run / "results/demo/summary.json").read_text())
    visit = browser.visit(driver, demo_run / PAGES["demo"])
    assert visit.errors == []
    table_id = "feature-table"
    n = summary["n_features"]
    before = _column(driver, table_id, 0)
    assert len(before) == n
    effect = driver.find_elements("css selector", f"#{table_id} thead th")[2]
    assert effect.text.startswith("effect")
    effect.click()  # first click: descending
    desc = [float(v) for v in _column(driver, table_id, 2) if v is not None]
    assert desc == sorted(desc, reverse=True) and _column(driver, table_id, 0) != before
    effect.click()
    asc = [float(v) for v in _column(driver, table_id, 2) if v is not None]
    assert asc == sorted(asc)
    # text filter
    box = driver.find_element("css selector", f"[data-filter-for={table_id}] input[type=search]")
    box.send_keys("sorry")
    shown = _visible_groups(driver, table_id)
    assert 0 < len(shown) < n
    assert all("sorry" in g.get_attribute("textContent").lower() for g in shown)
    box.clear()
    box.send_keys(" ")  # an input event with an empty needle shows everything again
    assert len(_visible_groups(driver, table_id)) == n
    # significant only
    driver.find_element("css selector", f"[data-filter-for={table_id}] input.sig-only").click()
    assert len(_visible_groups(driver, table_id)) == summary["n_significant"]
    # a feature opens to its description, candidates and example pairs
    group = _visible_groups(driver, table_id)[0]
    details = group.find_element("css selector", "details")
    assert details.get_attribute("open") is None
    details.find_element("css selector", "summary").click()
    assert details.get_attribute("open") is not None
    pair = details.find_element("css selector", ".pair")
    assert pair.is_displayed() and "Candidate descriptions" in details.text
    assert browser.collect(driver).errors == []


def test_run_page_sorts_and_shows_highlighted_contexts(demo_run, driver):
    browser.visit(driver, demo_run / PAGES["vader"])
    table_id = "lfp-features"
    head = driver.find_elements("css selector", f"#{table_id} thead th")[3]
    assert head.text.startswith("simulation score")
    head.click()
    scores = [float(v) for v in _column(driver, table_id, 3) if v is not None]
    assert len(scores) > 1 and scores == sorted(scores, reverse=True)
    details = _visible_groups(driver, table_id)[0].find_element("css selector", "details")
    details.find_element("css selector", "summary").click()
    marks = details.find_elements("css selector", "mark")
    assert marks and marks[0].is_displayed()
    text = driver.find_element("id", "probe").find_element("xpath", "..").text
    assert "Xavier" in text  # τ is shown with its controls
    assert "within positive words" in text and "sign-only baseline" in text
    assert "control: base model" in text


# --------------------------------------------------------------------------- XSS

EVIL = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "</div></td><script>window.__pwned = 3</script>",
    '<svg onload="window.__pwned = 4"></svg>',
]


def _report_inputs(root: Path, ds: str = "demo") -> dict:
    r = root / "results" / ds
    return {
        "pairs": r / "pairs.parquet",
        "ingest": r / "ingest.json",
        "embed_meta": r / "embed/meta.json",
        "sae_metrics": r / "sae/metrics.json",
        "codes": r / "sae/codes.npy",
        "fidelity": r / "interpret/fidelity.parquet",
        "fidelity_stats": r / "interpret/fidelity.json",
        "analysis": r / "analysis/features.parquet",
        "analysis_summary": r / "analysis/summary.json",
        "truth": r / "truth/truth.json",
        "concepts": r / "truth/concepts.parquet",
    }


def _report_outputs(out: Path) -> dict:
    names = {
        "summary": "summary.json",
        "markdown": "summary.md",
        "features": "features.parquet",
        "features_tsv": "features.tsv",
        "effects_plot": "effects.svg",
        "auc_plot": "auc.svg",
        "page": "report.html",
    }
    return {k: str(out / v) for k, v in names.items()}


REPORT_PARAMS = {"dataset": "demo", "fdr_q": 0.05, "page_example_features": 200, "page_examples": 3}


def _assert_inert(driver, path: Path) -> None:
    visit = browser.visit(driver, path)
    assert driver.execute_script("return window.__pwned === undefined")
    assert visit.errors == [], visit.errors
    assert visit.requests[0] == path.resolve().as_uri(), visit.requests
    assert all(u.startswith("data:") for u in visit.requests[1:]), visit.requests
    text = driver.execute_script("return document.body.textContent")
    assert all(e in text for e in EVIL)  # shown as text


def test_dataset_text_with_markup_runs_nothing(demo_run, driver, tmp_path):
    from prefscope.report.stage import report

    inputs = _report_inputs(demo_run)
    pairs = pl.read_parquet(inputs["pairs"])
    evil = " ".join(EVIL)
    pairs = pairs.with_columns(
        (pl.lit(EVIL[0] + " ") + pl.col("prompt")).alias("prompt"),
        (pl.col("response_A") + pl.lit(" " + evil)).alias("response_A"),
        (pl.lit(EVIL[2] + " ") + pl.col("response_B")).alias("response_B"),
    )
    fid = pl.read_parquet(inputs["fidelity"])
    fid = fid.with_columns(
        (pl.col("description") + pl.lit(" " + EVIL[1])).alias("description"),
        (pl.col("label") + pl.lit(EVIL[3])).alias("label"),
    )
    inputs["pairs"], inputs["fidelity"] = tmp_path / "pairs.parquet", tmp_path / "fid.parquet"
    pairs.write_parquet(inputs["pairs"])
    fid.write_parquet(inputs["fidelity"])
    outputs = _report_outputs(tmp_path / "out")
    report({k: str(v) for k, v in inputs.items()}, outputs, REPORT_PARAMS, 1)
    _assert_inert(driver, Path(outputs["page"]))


def test_branch_l_text_with_markup_runs_nothing(demo_run, driver, tmp_path):
    from prefscope.report.stage import lfp_report

    base = demo_run / "results/lfp/vader"
    explanations = json.loads((base / "probe/explanations.json").read_text())
    for f in explanations["features"]:
        f["explanation"] += " " + EVIL[1]
        f["top_contexts"] = [[[EVIL[0], 9], [EVIL[3], 0]], *f.get("top_contexts", [])[:1]]
    (tmp_path / "explanations.json").write_text(json.dumps(explanations))
    comps = pl.read_parquet(base / "probe/completions.parquet").with_columns(
        (pl.col("completion") + pl.lit(EVIL[2])).alias("completion")
    )
    comps.write_parquet(tmp_path / "completions.parquet")
    summary = json.loads((base / "summary.json").read_text())
    summary["rlhf"]["evaluation"]["after"]["examples"][0]["completion"] += EVIL[1]
    summary["controls"] = {"note": EVIL[0]}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    inputs = {
        "summary": tmp_path / "summary.json",
        "explanations": tmp_path / "explanations.json",
        "completions": tmp_path / "completions.parquet",
        "divergence": base / "divergence.png",
        "pca": base / "probe/pca.png",
        "error_vs_count": base / "probe/error_vs_count.png",
    }
    page = tmp_path / "report.html"
    lfp_report({k: str(v) for k, v in inputs.items()}, {"page": str(page)}, {}, 1)
    _assert_inert(driver, page)


# --------------------------------------------------------------------------- orientation


def test_no_label_a_reader_sees_starts_with_fewer(demo_run):
    table = pl.read_parquet(demo_run / "results/demo/features.parquet")
    assert (table["orientation"] == -1).any()  # the demo has negated descriptions to flip
    for label in table["label"].to_list():
        assert not label.lower().startswith("fewer")
    for desc in table["description"].to_list():
        assert "uses fewer of" not in desc
    tsv = (demo_run / "results/demo/features.tsv").read_text()
    summary = (demo_run / "results/demo/summary.json").read_text()
    page = (demo_run / "results/demo/report.html").read_text()
    svg = (demo_run / "results/demo/effects.svg").read_text()
    for text in (tsv, summary, svg):
        assert "fewer:" not in text
    assert "fewer:" not in page
    # planted concepts: each oriented feature correlates positively with its concept and its
    # effect has the planted sign (apologies and refusals are penalised)
    rec = {r["concept"]: r for r in json.loads(summary)["planted_recovery"]}
    for concept in ("apology", "refusal", "bullets", "bold"):
        r = rec[concept]
        assert r["correlation"] > 0 and r["feature_label"], r
        assert np.sign(r["label_effect"]) == np.sign(r["true_weight"]), r


def _flip_sae(src: Path, dest: Path, features: list[int]) -> None:
    """Copy an SAE with latents ``features`` negated (encoder column, bias, decoder row)."""
    import torch

    from prefscope.sae.api import load_sae, save_sae

    model = load_sae(src)
    with torch.no_grad():
        for j in features:
            model.W_enc[:, j] *= -1
            model.b_enc[j] *= -1
            if model.W_dec is not None:
                model.W_dec[j] *= -1
    save_sae(model, dest)


_EXPLAIN_KEYS = (
    "backend",
    "annotator",
    "n_candidates",
    "n_examples",
    "top_percentile",
    "max_words",
    "seed",
)


def _explain(root: Path, codes: np.ndarray, d: Path, cfg: dict) -> dict:
    """The real explain stage (the demo's settings) on ``codes``, in the folder ``d``."""
    from prefscope.interpret.stage import explain

    d.mkdir(parents=True, exist_ok=True)
    np.save(d / "codes.npy", codes)
    params = {k: cfg["interpret"].get(k) for k in _EXPLAIN_KEYS}
    explain(
        {"pairs": str(root / "results/demo/pairs.parquet"), "codes": str(d / "codes.npy")},
        {"explanations": str(d / "explanations.json")},
        {**params, "llm": None, "cache_path": str(d / "llm.sqlite")},
        1,
    )
    return json.loads((d / "explanations.json").read_text())


def _analyze_and_report(root: Path, d: Path, cfg: dict, fidelity: pl.DataFrame) -> Path:
    """The real analyze and report stages on ``d/codes.npy``; returns the report folder."""
    from prefscope.analyze.stage import analyze
    from prefscope.report.stage import report

    inputs = {k: str(v) for k, v in _report_inputs(root).items()}
    inputs["codes"] = str(d / "codes.npy")
    inputs["analysis"], inputs["analysis_summary"] = (
        str(d / "analysis.parquet"),
        str(d / "analysis.json"),
    )
    analyze(
        {
            "pairs": inputs["pairs"],
            "codes": inputs["codes"],
            "deltas": str(root / "results/demo/embed/deltas.npy"),
        },
        {"features": inputs["analysis"], "summary": inputs["analysis_summary"]},
        dict(cfg["analyze"]),
        1,
    )
    inputs["fidelity"] = str(d / "fidelity.parquet")
    fidelity.write_parquet(inputs["fidelity"])
    report(inputs, _report_outputs(d / "out"), REPORT_PARAMS, 1)
    return d / "out"


def test_flipping_a_feature_in_the_sae_changes_nothing_a_reader_sees(demo_run, tmp_path):
    """Negate latents in the SAE, re-run explain, analyze and report with the real stages:
    table, TSV, JSON, plots and page are unchanged. Fidelity's held-out sample is drawn from
    the signed-median halves, so that draw is not sign-symmetric: its scores are carried over
    and only the candidate texts come from the flipped run."""
    from polars.testing import assert_frame_equal
    from snakemake.utils import validate

    from prefscope.interpret.labels import short_label
    from prefscope.io import load_npy
    from prefscope.report.orient import negate
    from prefscope.sae.api import encode, load_sae

    cfg = yaml.safe_load((demo_run / "config/config.yaml").read_text())
    validate(cfg, str(demo_run / "workflow/schemas/config.schema.yaml"))  # fills defaults
    shown = pl.read_parquet(demo_run / "results/demo/features.parquet")
    sig = shown.filter(pl.col("significant"))
    flips = [int(sig.filter(pl.col("orientation") == s)["feature"][0]) for s in (1, -1)]
    sae_dir = demo_run / "results/demo/sae"
    _flip_sae(sae_dir, tmp_path / "sae_flipped", flips)
    deltas = load_npy(demo_run / "results/demo/embed/deltas.npy")
    codes = encode(load_sae(sae_dir), deltas)
    flipped = encode(load_sae(tmp_path / "sae_flipped"), deltas)
    expected = codes.copy()
    expected[:, flips] *= -1
    np.testing.assert_allclose(flipped, expected, atol=1e-5)

    expl_o = _explain(demo_run, codes, tmp_path / "original", cfg)
    expl_f = _explain(demo_run, flipped, tmp_path / "flipped", cfg)
    for j in flips:  # the real describer writes the opposite description of a flipped latent
        assert expl_f["features"][j]["candidates"] == [
            negate(c) for c in expl_o["features"][j]["candidates"]
        ]
    fid_o = pl.read_parquet(demo_run / "results/demo/interpret/fidelity.parquet")
    rows = []
    for row in fid_o.iter_rows(named=True):
        if row["feature"] in flips:
            cands = expl_f["features"][row["feature"]]["candidates"]
            best = cands[int(np.argmax(row["candidate_r"]))]
            row = {**row, "candidates": cands, "description": best, "label": short_label(best)}
        rows.append(row)
    fid_f = pl.DataFrame(rows, schema=fid_o.schema)
    a = _analyze_and_report(demo_run, tmp_path / "original", cfg, fid_o)
    b = _analyze_and_report(demo_run, tmp_path / "flipped", cfg, fid_f)

    ta, tb = pl.read_parquet(a / "features.parquet"), pl.read_parquet(b / "features.parquet")
    sign_a = ta.sort("feature")["orientation"].to_numpy()
    sign_b = tb.sort("feature")["orientation"].to_numpy()
    assert (sign_a[flips] == -sign_b[flips]).all()
    assert_frame_equal(ta.drop("orientation"), tb.drop("orientation"), rel_tol=1e-6, abs_tol=1e-9)
    tsv_a = pl.read_csv(a / "features.tsv", separator="\t").drop("orientation")
    tsv_b = pl.read_csv(b / "features.tsv", separator="\t").drop("orientation")
    assert_frame_equal(tsv_a, tsv_b, rel_tol=1e-6, abs_tol=1e-9)
    for name in ("effects.svg", "auc.svg", "summary.md"):
        assert (a / name).read_text() == (b / name).read_text(), name

    def reader_view(path: Path) -> str:  # everything but the SAE-relative sign
        return re.sub(
            r"<tr><td>sign relative to the SAE latent</td><td>-?1</td></tr>", "", path.read_text()
        )

    assert reader_view(a / "report.html") == reader_view(b / "report.html")
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    for s in (sa, sb):
        for f in s["top_features"]:
            f.pop("orientation")
    assert _close(sa, sb)


def _close(x, y) -> bool:
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_close(x[k], y[k]) for k in x)
    if isinstance(x, list):
        return len(x) == len(y) and all(_close(u, v) for u, v in zip(x, y, strict=True))
    if isinstance(x, float) and isinstance(y, float):
        return bool(np.isclose(x, y, rtol=1e-6, atol=1e-9))
    assert x == y, (x, y)
    return True
