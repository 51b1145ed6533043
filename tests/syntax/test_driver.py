"""The fast LALR driver (`syntax.driver`) gives exactly what lark's own parser gives: the same
tokens, the same AST with the same spans, the same diagnostics; where lark reports a syntax
error, the fast path hands over (and `parse_with_diagnostics` reports lark's error)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_corpus import invalid_queries, label, valid_queries
from test_fuzz import PIECES

from segmentql.syntax import strategies
from segmentql.syntax.ast_json import to_json
from segmentql.syntax.driver import Fallback
from segmentql.syntax.formatter import format_ast
from segmentql.syntax.lexer import CURRENT, ParseState
from segmentql.syntax.parser import _fast_parser, _finish, _lark_parse, parse_with_diagnostics


def _outcome(state: ParseState, node: Any) -> tuple[Any, ...]:
    result = _finish(state, node, 64)
    return (
        to_json(result.ast) if result.ast is not None else None,
        [d.to_json() for d in result.diagnostics],
        [(t.type, str(t), t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)
         for t in state.tokens],
    )


def by_lark(text: str) -> tuple[Any, ...]:
    state = ParseState(text)
    reset = CURRENT.set(state)
    try:
        return _outcome(state, _lark_parse(text, state))
    finally:
        CURRENT.reset(reset)


def by_driver(text: str) -> tuple[Any, ...] | None:
    """The fast path's outcome, or None when it hands over to lark."""
    state = ParseState(text)
    reset = CURRENT.set(state)
    try:
        return _outcome(state, _fast_parser().parse(text, state))
    except Fallback:
        return None
    finally:
        CURRENT.reset(reset)


def check_same(text: str) -> None:
    expected = by_lark(text)
    fast = by_driver(text)
    if fast is not None:
        assert fast == expected
    else:
        assert expected[0] is None or any(d["severity"] == "error" for d in expected[1])
    public = parse_with_diagnostics(text, max_length=len(text))
    assert (to_json(public.ast) if public.ast is not None else None) == expected[0]
    assert [d.to_json() for d in public.diagnostics] == expected[1]


@pytest.mark.parametrize("query", [v.query for v in valid_queries()], ids=label)
def test_valid_corpus_same_as_lark(query: str) -> None:
    assert by_driver(query) is not None
    check_same(query)


@pytest.mark.parametrize("query", [i.query for i in invalid_queries() if len(i.query) <= 500],
                         ids=label)
def test_invalid_corpus_same_as_lark(query: str) -> None:
    check_same(query)


@pytest.mark.parametrize("query", [
    "x /* open", "a // note\n and\n\tb", "user's a is 1 /* c */ or\r\n b", "",
    "user has viewed a page with url like \"a\", title \"b\" or c and d",
])
def test_comments_lines_and_joins_same_as_lark(query: str) -> None:
    check_same(query)


@settings(max_examples=60, deadline=None)
@given(strategies.expressions(max_depth=3))
def test_generated_queries_same_as_lark(node: Any) -> None:
    check_same(format_ast(node))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join))
def test_token_soup_same_as_lark(text: str) -> None:
    check_same(text)
