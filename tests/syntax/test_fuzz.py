"""Fuzzing: any string gives an AST or a QuerySyntaxError, never another exception.

Three generators: random unicode, deeply nested brackets, and "token soup" made of the
grammar's own keywords and punctuation (which reaches much deeper into the parser than
random text). `parse_with_diagnostics` must never raise at all.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmentql.errors import QuerySyntaxError
from segmentql.syntax import ast
from segmentql.syntax.parser import _parser, parse, parse_with_diagnostics


def _keywords() -> list[str]:
    words: set[str] = set()
    for terminal in _parser().terminals:
        pattern = terminal.pattern
        if type(pattern).__name__ == "PatternStr":
            words.add(pattern.value)
    return sorted(words)


PIECES = [
    *_keywords(), "user", "session", "x", "'s", "s'", "stats'", "1", "-1", "2.5", "1e3",
    "'a'", '"b"', '"\\q"', "~/a/i", "~/", "[", "]", "(", ")", ",", "//", "/*", "*/", "'", '"',
    "or else", "count of", "number of", "99999999999999999999", "\n", "%",
]

token_soup = st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join)
glued_soup = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
nested = st.tuples(
    st.integers(0, 200), st.sampled_from(["(", "[", "not ", "-", "f(", "[1, "]),
    st.sampled_from(["x", "1", "", "user's a"]), st.integers(0, 200),
    st.sampled_from([")", "]", ""]),
).map(lambda t: t[1] * t[0] + t[2] + t[4] * t[3])


def _check(text: str) -> None:
    result = parse_with_diagnostics(text)
    assert all(not d.message.startswith("internal") for d in result.diagnostics)
    for diagnostic in result.diagnostics:
        assert 0 <= diagnostic.span.start <= diagnostic.span.end <= len(text)
    if result.ok:
        assert result.ast is not None
        assert not any(type(n).__module__ != ast.__name__ for n in result.ast.walk())
    try:
        node = parse(text)
    except QuerySyntaxError as error:
        assert error.diagnostics
        assert not result.ok
    else:
        assert result.ok and node == result.ast


@given(st.text(max_size=200))
def test_random_unicode(text: str) -> None:
    _check(text)


@given(token_soup)
def test_token_soup(text: str) -> None:
    _check(text)


@given(glued_soup)
def test_glued_token_soup(text: str) -> None:
    _check(text)


@given(nested)
def test_deep_nesting(text: str) -> None:
    _check(text)


@pytest.mark.slow
@given(st.one_of(token_soup, glued_soup, nested, st.text(max_size=500)))
def test_everything_mixed(text: str) -> None:
    _check(text)


def test_known_nasty_inputs() -> None:
    for text in ["\x00", "\ud800", "'s", "s'", "user'", "''s", "~//", "~/\\", "/**/",
                 "/*/", "1..", "..1", "1...2", "a.", ".a", "[:", "[1:", "((", "))", "is",
                 "user has viewed a page with (url 'a'", "x rounded with scale of",
                 "user has viewed a page with url 'a' and", "let x = 1; let",
                 re.sub("x", "(x)", "x + x")]:
        _check(text)
