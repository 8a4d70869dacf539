"""docs/rulegraph.svg, the map in docs/architecture.md, is the workflow's current rule graph.

The SVG is committed (rendering it needs Graphviz); this test needs no Graphviz: it asks
Snakemake for the rule graph in DOT under the same configs and compares rule names and
edges with the SVG's. When it fails, regenerate the map with the command in
docs/rulegraph.yaml.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
from smkapi import REPO, copy_workflow, parsed_rules, run_snakemake

SVG = REPO / "docs" / "rulegraph.svg"
OVERLAY = REPO / "docs" / "rulegraph.yaml"
Graph = tuple[set[str], set[tuple[str, str]]]


def dot_graph(text: str) -> Graph:
    """(rule names, edges by rule name) of ``snakemake --rulegraph`` output."""
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', text, re.M))
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", text, re.M)}
    return set(labels.values()), edges


def svg_graph(text: str) -> Graph:
    """(rule names, edges by rule name) of the Graphviz SVG of that graph."""
    nodes = re.findall(
        r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>.*?<text[^>]*>([^<]+)</text>',
        text,
        re.S,
    )
    labels = {html.unescape(i): html.unescape(name) for i, name in nodes}
    edges = set()
    for title in re.findall(r'<g id="edge\d+" class="edge">\s*<title>([^<]+)</title>', text):
        a, b = html.unescape(title).split("->")
        edges.add((labels[a], labels[b]))
    return set(labels.values()), edges


def test_readers_agree_on_a_small_graph():
    dot = '\t0[label = "all", color = "x"];\n\t1[label = "ingest"];\n\t1 -> 0\n'
    svg = (
        '<g id="node1" class="node">\n<title>0</title>\n<text x="1">all</text></g>'
        '<g id="node2" class="node">\n<title>1</title>\n<text x="1">ingest</text></g>'
        '<g id="edge1" class="edge">\n<title>1&#45;&gt;0</title></g>'
    )
    assert dot_graph(dot) == svg_graph(svg) == ({"all", "ingest"}, {("ingest", "all")})


@pytest.fixture(scope="module")
def wd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wd = copy_workflow(tmp_path_factory.mktemp("map"))
    (wd / "docs").mkdir(exist_ok=True)
    shutil.copy2(OVERLAY, wd / "docs" / OVERLAY.name)
    return wd


def test_committed_map_is_the_current_rule_graph(wd):
    result = run_snakemake(
        wd,
        "--rulegraph",
        "--cores",
        "1",
        "--configfile",
        "config/config.yaml",
        f"docs/{OVERLAY.name}",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert svg_graph(SVG.read_text()) == dot_graph(result.stdout), (
        "docs/rulegraph.svg is out of date: regenerate it (command in docs/rulegraph.yaml)"
    )


def test_map_shows_every_rule(wd):
    names, _ = svg_graph(SVG.read_text())
    assert set(parsed_rules(wd)) == names
