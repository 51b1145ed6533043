"""The lexer's own decisions: criteria look-ahead, accessors, keywords as whole words."""

from __future__ import annotations

import pytest

from segmentql.syntax import ast
from segmentql.syntax.lexer import looks_like_criterion
from segmentql.syntax.parser import parse, parse_with_diagnostics


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (" title 'b'", True),
        (" details.rating 5", True),
        (" packaging of cart's costs less than 3", True),
        (" total greater than 5", True),
        (" url like 'x'", True),
        (" category in ['a']", True),
        (" (url 'a' or url 'b')", True),
        (" title y", True),
        (" /* c */ title 'b'", True),
        (" user is returning", False),
        (" session's plan is 'x'", False),
        (" x is 1", False),
        (" n > 1", False),
        (" count of x > 1", False),
        (" not x", False),
        (" every x in y satisfies x", False),
        (" flag", False),
        (" flag or z", False),
        (" x contains 'a'", False),
        (" 'a' == x", False),
        ("", False),
    ],
)
def test_criterion_look_ahead(after: str, expected: bool) -> None:
    assert looks_like_criterion(" and" + after, 4) is expected


def test_criteria_join_only_where_the_parser_can_take_one() -> None:
    node = parse("x is between 1 and 2")  # `and` + `2`: never a criteria join here
    assert isinstance(node, ast.Test) and node.op is ast.TestOp.BETWEEN


def test_a_name_as_criterion_value() -> None:
    node = parse("user has viewed a page with url 'a' and title y")
    assert isinstance(node, ast.EventTest)
    assert isinstance(node.criteria, ast.CriteriaGroup)
    assert node.criteria.items[1] == ast.Criterion(
        ("title",), ast.CriterionOp.EQUAL, ast.Variable("y")
    )


def test_a_bare_name_after_and_ends_the_event() -> None:
    node = parse("user has viewed a page with url 'a' and flag")
    assert isinstance(node, ast.Binary) and node.right == ast.Variable("flag")


def test_possessive_is_case_insensitive() -> None:
    assert parse("USER'S PLAN") == ast.Attribute(ast.Variable("USER"), "PLAN")
    assert parse("STATS' X") == ast.Attribute(ast.Variable("STATS"), "X")


def test_keywords_are_whole_words() -> None:
    assert not parse_with_diagnostics("x is 1 andy").ok
    assert parse("android") == ast.Variable("android")
    assert parse("isDefined is defined") == ast.Test(ast.TestOp.DEFINED, ast.Variable("isDefined"))
    assert parse("a or elsewhere") == ast.Binary(
        ast.BinaryOp.OR, ast.Variable("a"), ast.Variable("elsewhere")
    )
    assert not parse_with_diagnostics("count offers").ok  # a name, then a name: no macro


def test_or_else_spans_lines() -> None:
    assert parse("a or\n  else b") == parse("a ?? b")


def test_decimal_point_and_range() -> None:
    assert parse("1..3") == ast.Binary(
        ast.BinaryOp.RANGE, ast.IntegerLiteral(1), ast.IntegerLiteral(3)
    )
