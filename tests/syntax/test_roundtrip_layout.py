"""The canonical form does not depend on layout: a corpus query with its spaces changed to
other whitespace and comments added formats to the same text and parses to the same AST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from segmentql.syntax.formatter import format_query
from segmentql.syntax.parser import parse

CORPUS = Path(__file__).resolve().parents[2] / "grammar" / "corpus" / "valid"


def _queries() -> list[str]:
    out = []
    for path in sorted(CORPUS.glob("*.yaml")):
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        out += [e["query"] for e in data if isinstance(e, dict) and "query" in e]
    return out


QUERIES = _queries()
WORD_END = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_)]")


def layout_slots(text: str) -> list[int]:
    """Offsets of the spaces outside string and regex literals (where any whitespace may go).

    A quote right after a word or a closing bracket is an accessor (`'s`, `s'`), not a string.
    """
    slots: list[int] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "\"'" and not (char == "'" and i > 0 and text[i - 1] in WORD_END):
            i = _skip_quoted(text, i + 1, char)
            continue
        if text.startswith("~/", i):
            i = _skip_quoted(text, i + 2, "/")
            continue
        if text.startswith("//", i) or text.startswith("/*", i):
            return []  # queries with comments are left as they are
        if char == " ":
            slots.append(i)
        i += 1
    return slots


def _skip_quoted(text: str, i: int, close: str) -> int:
    while i < len(text) and text[i] != close:
        i += 2 if text[i] == "\\" else 1
    return i + 1


SPACES = st.sampled_from([" ", "  ", "\n", "\t", "\n    ", " \r\n "])


@st.composite
def relaid(draw: st.DrawFn) -> tuple[str, str]:
    query = draw(st.sampled_from(QUERIES))
    slots = layout_slots(query)
    pieces, last = [], 0
    for slot in slots:
        pieces += [query[last:slot], draw(SPACES)]
        last = slot + 1
    pieces.append(query[last:])
    text = "".join(pieces)
    if draw(st.booleans()):
        text = f"/* {draw(st.sampled_from(['note', '*', 'a // b']))} */ {text}"
    if draw(st.booleans()):
        text = f"{text} // trailing note"
    return query, text


def test_corpus_has_queries_to_relay() -> None:
    assert sum(1 for q in QUERIES if layout_slots(q)) >= 200


@given(relaid())
def test_layout_does_not_change_the_canonical_form(pair: tuple[str, str]) -> None:
    original, relaid_text = pair
    assert parse(relaid_text) == parse(original)
    assert format_query(relaid_text) == format_query(original)
