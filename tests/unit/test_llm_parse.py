"""Answer parsers: wrappers stripped, content validated, reasons given."""

from __future__ import annotations

import pytest

from prefscope.llm.errors import MalformedAnswer
from prefscope.llm.parse import (
    parse_annotation,
    parse_levels,
    parse_line,
    parse_yes_no,
    strip_wrappers,
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('- "uses a numbered list"', "uses a numbered list"),
        ("<think>A has steps.\nYes.</think>\n\n“refuses the request”", "refuses the request"),
        ("Description: apologises to the user.\nBecause ...", "apologises to the user."),
        ("\n\n  * 'mentions prices'  \n", "mentions prices"),
        ("```\nuses emoji\n```", "uses emoji"),
        ("1. does not greet the user", "does not greet the user"),
    ],
)
def test_parse_line(answer, expected):
    assert parse_line(answer) == expected


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("", "the answer is empty"),
        ('  ""  ', "the answer is empty"),
        ("<think>still thinking about it", "unfinished reasoning"),
        ("x" * 301, "longer than 300 characters"),
    ],
)
def test_parse_line_rejects(answer, reason):
    with pytest.raises(MalformedAnswer, match=reason):
        parse_line(answer)


def test_parse_annotation_values_and_wrappers():
    assert parse_annotation('{"1": "A", "2": "b", "3": " Tie "}', 3) == [1.0, -1.0, 0.0]
    wrapped = '<think>hm</think>```json\n{"2": "B", "1": "TIE"}\n```'
    assert parse_annotation(wrapped, 2) == [0.0, -1.0]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("A", r"not valid JSON \(expected an object\)"),
        ('["A", "B"]', "JSON but not an object"),
        ('{"1": "A"}', r"exactly the keys 1..2 \(missing keys \['2'\]\)"),
        ('{"1": "A", "2": "B", "x": "A"}', r"unexpected keys \['x'\]"),
        ('{"1": "A", "2": "maybe"}', 'key "2" must be "A", "B" or "Tie", got "maybe"'),
        ('{"1": "A", "2": 1}', 'key "2" must be "A", "B" or "Tie", got 1'),
        ('Sure! {"1": "A", "2": "B"}', "not valid JSON"),
    ],
)
def test_parse_annotation_rejects(answer, reason):
    with pytest.raises(MalformedAnswer, match=reason):
        parse_annotation(answer, 2)


def test_parse_yes_no():
    assert parse_yes_no("Yes.") is True
    assert parse_yes_no('<think>sentiment!</think> "no"') is False
    with pytest.raises(MalformedAnswer, match='"yes" or "no"'):
        parse_yes_no("Probably")


def test_parse_levels():
    assert parse_levels("[0, 3, 10, 12, -1, 2.5]", 6) == [0.0, 3.0, 10.0, 10.0, 0.0, 2.5]
    with pytest.raises(MalformedAnswer, match="has 2 values, expected 3"):
        parse_levels("[1, 2]", 3)
    with pytest.raises(MalformedAnswer, match='got "high"'):
        parse_levels('[1, "high"]', 2)
    with pytest.raises(MalformedAnswer, match="got true"):
        parse_levels("[1, true]", 2)


def test_strip_wrappers_keeps_inner_text():
    assert strip_wrappers("<THINK>x</THINK>  ```json\n[1]\n```  ") == "[1]"
