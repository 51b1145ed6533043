"""docs/operators.md is the checker's own operator table, rendered; and the table is sound."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentql.checker import analyze
from segmentql.checker.table import CASTS, OPERATORS, Cat, lookup, render_markdown
from segmentql.schema import ANY, INTEGER, NULL, STRING, list_of
from segmentql.syntax import ast

DOC = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def test_operators_doc_is_generated_from_the_table() -> None:
    # To refresh after changing the table:
    #   python -c "from segmentql.checker.table import render_markdown as r; \
    #              open('docs/operators.md', 'w').write(r())"
    assert DOC.read_text(encoding="utf-8") == render_markdown()


def test_every_ast_operator_and_test_is_in_the_table() -> None:
    keys = set(OPERATORS)
    assert {op.value for op in ast.TestOp} - keys == {
        "anonymous", "identified", "returning", "starting",  # subject tests, no operands
    }
    assert {m.value for m in ast.MacroOp} <= keys
    assert {"+", "-", "*", "/", "mod", "**", "&", "..", "??", "and", "or", "not"} <= keys
    assert {op.value for op in ast.CompareOp} <= keys
    assert {c.value for c in ast.CastType} == set(CASTS)


@pytest.mark.parametrize("key", sorted(OPERATORS))
def test_null_and_any_operands_match_every_operator(key: str) -> None:
    info = OPERATORS[key]
    for operand in (ANY, NULL):
        assert lookup(key, operand, None if info.unary else operand) is not None


def test_lookup_results() -> None:
    assert lookup("+", INTEGER, INTEGER) == INTEGER
    assert lookup("+", STRING, INTEGER) is None
    assert lookup("starts_with", STRING, STRING) is not None
    assert lookup("count", list_of(STRING)) == INTEGER
    assert lookup("first", list_of(STRING)) == STRING
    assert lookup("keys", list_of(STRING)) == list_of(INTEGER)
    assert Cat.ANYTHING.value == "*"


def test_the_checker_uses_the_table() -> None:
    # A row the table lacks is an error; one it has is not (here: `%` on a string).
    assert [d.code for d in analyze('"a"%').diagnostics] == ["Q204"]
    assert analyze("2%").diagnostics == []
