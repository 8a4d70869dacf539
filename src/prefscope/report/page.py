"""Building blocks of the browsable report pages: one shell, escaped cells, sortable tables.

Every page is a single self-contained file: CSS and the small table script are inline,
figures are inline SVG or ``data:`` URIs, and no URL outside the results folder appears, so a
page opened from disk (``file://``) or served by ``python -m http.server`` makes no network
request. All text reaches the page through :func:`esc` (or :func:`cell`): a preference
dataset can hold markup and scripts, and they must show as text and run nothing. The script
never builds markup from data; it only reorders and hides rows that are already escaped.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

STYLE = """
:root{--fg:#1d1d1f;--mute:#666;--line:#ddd;--bg2:#f5f5f7;--sig:#b3261e;--ok:#1b7f4b}
body{font-family:system-ui,-apple-system,sans-serif;max-width:1200px;margin:1.5em auto;
padding:0 1em;color:var(--fg);line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid var(--line)}
nav{font-size:.9em;color:var(--mute)}a{color:#0b57d0}
table{border-collapse:collapse;margin:.5em 0}
td,th{padding:3px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th.sortable{cursor:pointer;user-select:none;white-space:nowrap}
th.sortable::after{content:" \\2195";color:#aaa}
th[aria-sort=ascending]::after{content:" \\2191";color:var(--fg)}
th[aria-sort=descending]::after{content:" \\2193";color:var(--fg)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.kv td:first-child{color:var(--mute)}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:260px;flex:1}
.card h3{margin:.1em 0 .4em}
.big{font-size:1.25em;font-weight:600}.mute{color:var(--mute)}
.sig{color:var(--sig);font-weight:600}
.controls{display:flex;gap:16px;align-items:center;margin:.5em 0;flex-wrap:wrap}
.controls input[type=search]{padding:4px 8px;min-width:280px}
details>summary{cursor:pointer;color:#0b57d0}
details .inner{padding:6px 0 10px 14px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:4px 0 14px}
.resp,.ctx{white-space:pre-wrap;background:var(--bg2);padding:6px;border-radius:4px;
font-size:.88em;overflow-wrap:anywhere}
.won{outline:2px solid var(--ok)}.prompt{color:var(--mute);font-style:italic;white-space:pre-wrap}
.tag{font-size:.8em;color:var(--mute)}
figure{margin:.5em 0}figure svg,figure img{max-width:100%;height:auto}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
mark{border-radius:2px;padding:0 1px}
"""

# Sort, filter and count rows of every ``table.data``. Rows are ``<tbody>`` groups (a feature
# row plus its detail row move together); a cell's sort key is its ``data-v`` attribute.
SCRIPT = r"""
(function(){
  function key(cell){
    if(!cell) return null;
    var v = cell.getAttribute('data-v');
    if(v === null) v = cell.textContent.trim();
    if(v === '' || v === '–') return null;
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  function cmp(a, b, dir){
    if(a === null && b === null) return 0;
    if(a === null) return 1;
    if(b === null) return -1;
    if(typeof a === typeof b) return (a < b ? -1 : a > b ? 1 : 0) * dir;
    return (typeof a === 'number' ? -1 : 1) * dir;
  }
  document.querySelectorAll('table.data').forEach(function(table){
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    heads.forEach(function(th, col){
      if(!th.classList.contains('sortable')) return;
      th.addEventListener('click', function(){
        var dir = th.getAttribute('aria-sort') === 'descending' ? 1 : -1;
        heads.forEach(function(h){ h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var groups = Array.prototype.slice.call(table.tBodies);
        groups.sort(function(g1, g2){
          return cmp(key(g1.rows[0].cells[col]), key(g2.rows[0].cells[col]), dir);
        });
        groups.forEach(function(g){ table.appendChild(g); });
      });
    });
  });
  document.querySelectorAll('[data-filter-for]').forEach(function(box){
    var table = document.getElementById(box.getAttribute('data-filter-for'));
    var text = box.querySelector('input[type=search]');
    var only = box.querySelector('input[type=checkbox]');
    var count = box.querySelector('.count');
    function apply(){
      var needle = text ? text.value.trim().toLowerCase() : '';
      var shown = 0, groups = Array.prototype.slice.call(table.tBodies);
      groups.forEach(function(g){
        var ok = (!needle || g.textContent.toLowerCase().indexOf(needle) >= 0) &&
                 (!only || !only.checked || g.getAttribute('data-sig') === '1');
        g.hidden = !ok;
        if(ok) shown++;
      });
      if(count) count.textContent = shown + ' of ' + groups.length + ' shown';
    }
    if(text) text.addEventListener('input', apply);
    if(only) only.addEventListener('change', apply);
    apply();
  });
})();
"""


def esc(value: Any) -> str:
    """HTML-escaped text of any value (quotes included, so it is safe in attributes too)."""
    return escape("" if value is None else str(value), quote=True)


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt(value: Any, digits: int = 3) -> str:
    """A number as people read it (``0.0123``, ``4.1e-07``); text escaped; missing as ``–``."""
    if is_missing(value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return esc(value)


def ci(low: Any, high: Any, digits: int = 3) -> str:
    if is_missing(low) and is_missing(high):
        return "–"
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


def cell(value: Any, digits: int = 3, sort: Any = None, cls: str = "") -> str:
    """A ``<td>`` whose sort key is the raw value (numbers sort as numbers)."""
    key = value if sort is None else sort
    if isinstance(key, bool):
        key = int(key)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    classes = " ".join(c for c in (cls, "num" if numeric else "") if c)
    return html_cell(fmt(value, digits), key, classes)


def html_cell(html: str, sort: Any = None, cls: str = "") -> str:
    """A ``<td>`` of already-escaped ``html`` with the sort key ``sort``."""
    if isinstance(sort, float) and not math.isnan(sort):
        sort = f"{sort:.12g}"  # sorts the same; no last-digit noise between equivalent runs
    attr = "" if is_missing(sort) else f" data-v='{esc(sort)}'"
    klass = f" class='{cls}'" if cls else ""
    return f"<td{attr}{klass}>{html}</td>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    table_id: str | None = None,
    sortable: bool = True,
    groups: Iterable[tuple[str, str]] | None = None,
) -> str:
    """A table of pre-rendered ``<td>`` cells, one ``<tbody>`` per row (or per group).

    ``groups`` (``(tbody attributes, inner rows html)``) replaces ``rows`` when a row comes
    with a detail row that must move with it when the table is sorted.
    """
    ident = f" id='{esc(table_id)}'" if table_id else ""
    cls = "data" if sortable else "plain"
    th = "".join(
        f"<th class='sortable' scope='col'>{esc(h)}</th>" if sortable else f"<th>{esc(h)}</th>"
        for h in headers
    )
    body = (
        "".join(f"<tbody {attrs}>{inner}</tbody>" for attrs, inner in groups)
        if groups is not None
        else "".join(f"<tbody><tr>{''.join(r)}</tr></tbody>" for r in rows)
    )
    return f"<table class='{cls}'{ident}><thead><tr>{th}</tr></thead>{body}</table>"


def kv_table(items: Iterable[tuple[str, Any]]) -> str:
    """A two-column key/value table (values already HTML or plain values to format)."""
    rows = "".join(
        f"<tr><td>{esc(k)}</td><td>{v if isinstance(v, Markup) else fmt(v)}</td></tr>"
        for k, v in items
    )
    return f"<table class='kv'>{rows}</table>"


class Markup(str):
    """HTML that is already escaped (so :func:`kv_table` inserts it as is)."""


def filter_controls(
    table_id: str, *, only: str | None = "significant only", placeholder: str = ""
) -> str:
    """A text filter for the table ``table_id`` and optionally a checkbox (labelled ``only``)
    that keeps the row groups marked ``data-sig='1'``."""
    box = f"<label><input type='checkbox' class='sig-only'> {esc(only)}</label>" if only else ""
    return (
        f"<div class='controls' data-filter-for='{esc(table_id)}'>"
        f"<input type='search' placeholder='{esc(placeholder or 'filter rows')}' "
        f"aria-label='filter'>{box}<span class='count mute'></span></div>"
    )


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


def inline_svg(path: str | Path, caption: str = "") -> str:
    """An SVG file inlined in a ``<figure>`` (no external reference: matplotlib's SVGs are
    self-contained; the XML declaration and doctype are dropped)."""
    text = Path(path).read_text(encoding="utf-8")
    svg = _XML_DECL.sub("", text)
    cap = f"<figcaption class='mute'>{esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg}{cap}</figure>"


def inline_png(path: str | Path, caption: str = "", alt: str = "") -> str:
    """A PNG file as a ``data:`` URI image in a ``<figure>``."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    cap = f"<figcaption class='mute'>{esc(caption)}</figcaption>" if caption else ""
    return (
        f"<figure><img alt='{esc(alt or caption)}' src='data:image/png;base64,{data}'>"
        f"{cap}</figure>"
    )


def extras(record: dict[str, Any], known: Iterable[str]) -> str:
    """Fields of ``record`` that a page does not lay out itself, shown as a key/value list,
    so a stage that adds numbers to its JSON sees them on the page without a page change."""
    seen = set(known)
    items = [(k, v) for k, v in record.items() if k not in seen]
    if not items:
        return ""
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{render_value(v)}</td></tr>" for k, v in items)
    return f"<details><summary>more fields</summary><table class='kv'>{rows}</table></details>"


def render_value(value: Any) -> str:
    """Any JSON value as escaped text: scalars formatted, containers as compact JSON."""
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return f"<code>{esc(text if len(text) <= 400 else text[:399] + '…')}</code>"
    return fmt(value)


def page(title: str, body: Iterable[str], *, nav: str = "") -> str:
    """The whole document: inline style, the content, then the table script."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        + (f"<nav>{nav}</nav>" if nav else "")
        + "".join(body)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
