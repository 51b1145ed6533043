"""Syntax diagnostics read in the words of the query and point at the right place."""

from __future__ import annotations

import pytest
from syntax_corpus import invalid_queries

from segmentql.codes import CODES
from segmentql.syntax.parser import parse_with_diagnostics
from segmentql.syntax.syntax_errors import describe_expected


def first(query: str) -> tuple[str, str, int, int]:
    result = parse_with_diagnostics(query)
    diagnostic = result.diagnostics[0]
    return diagnostic.code, diagnostic.message, diagnostic.span.start, diagnostic.span.end


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("user's plan is", "Q114", "expected a value after 'is'"),
        ("x +", "Q114", "expected a value after '+'"),
        ("user's", "Q102", "unexpected end of query; expected a name after \"'s\""),
        ("x % 2", "Q101", "unexpected '2'; expected an operator or the end of the query after '%'"),
        ("x is equal 1", "Q101", "unexpected '1'; expected 'to' after 'equal'"),
        ("user has viewed a", "Q116",
         "expected 'campaign', 'page', 'post' or 'product' after 'a'"),
        ("let x = 1", "Q118", "expected ';' after '1'"),
        ("x as foo", "Q120", "expected a type after 'as', found 'foo'"),
        ("2 fortnights", "Q110", "unknown duration unit 'fortnights'"),
        ("(a or b", "Q111", "'(' is never closed"),
        ("a)", "Q112", "')' closes a bracket that was never opened"),
        ('"a\\qb"', "Q104", "invalid escape sequence '\\q' in string"),
        ("x matches ~/a/g", "Q105", "unknown regular-expression flag 'g'"),
        ("this + 1", "Q121", "'this' is a reserved word and cannot be used as a name here"),
        ("every x in y", "Q117", "expected 'indexed', 'satisfies' or 'satisfy' after 'y'"),
        ("every x in y satisfies x is", "Q114", "expected a value after 'is'"),
        ("at least 2 of x in y satisfies z", "Q117", "expected 'any' after 'of', found 'x'"),
    ],
)
def test_messages(query: str, code: str, message: str) -> None:
    assert first(query)[:2] == (code, message)


def test_end_of_input_errors_point_past_the_last_character() -> None:
    for query in ("x and", "x is between 1 and", "user has", "every x in y", "let x = 1 "):
        code, _, start, end = first(query)
        assert start == end == len(query), (query, code)


def test_assignment_instead_of_comparison_gets_help() -> None:
    result = parse_with_diagnostics("x = 1")
    assert result.diagnostics[0].help is not None
    assert "'=='" in result.diagnostics[0].help


def test_all_diagnostics_are_collected() -> None:
    result = parse_with_diagnostics('"\\q" & ~/a/z & 1e999 & 1.00000000000000000000000000001')
    assert [d.code for d in result.diagnostics] == ["Q104", "Q105", "Q123", "Q109"]


def test_every_code_used_is_in_the_code_table() -> None:
    used = {case.code for case in invalid_queries()}
    assert used <= set(CODES)
    assert {f"Q1{n:02d}" for n in range(24)} | {"Q150", "Q151"} <= used


def test_describe_expected() -> None:
    assert describe_expected({"IS", "$END"}) == "'is' or the end of the query"
    assert describe_expected({"NAME", "INT", "DQ_STRING", "LPAR"}) == "a value"
    assert describe_expected(set()) == "something else"
