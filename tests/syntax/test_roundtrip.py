"""Round trips between text and AST through the canonical formatter.

- Generated ASTs: `parse(format_ast(tree)) == tree`, and formatting is idempotent.
- A1's corpus of valid queries: `parse(format_query(q)) == parse(q)`, idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from segmentql.errors import QuerySyntaxError
from segmentql.syntax import ast
from segmentql.syntax.formatter import format_ast, format_query
from segmentql.syntax.parser import parse
from segmentql.syntax.strategies import event_tests, expressions, literals

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "grammar" / "corpus" / "valid").glob("*.yaml"))


def _queries(path: Path) -> list[str]:
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = data.get("queries", data.get("cases", [])) if isinstance(data, dict) else data
    return [e["query"] for e in entries if isinstance(e, dict) and "query" in e]


CORPUS_QUERIES = [(p.name, q) for p in CORPUS for q in _queries(p)]


#: Generated trees print longer than the 500-character query limit; the property is about
#: structure, so the round trip lifts the limit.
NO_LENGTH_LIMIT = 10**6


def _round_trip(tree: ast.Expr) -> None:
    text = format_ast(tree)
    try:
        again = parse(text, max_length=NO_LENGTH_LIMIT)
    except QuerySyntaxError as error:  # show the printed text, not only the diagnostics
        raise AssertionError(f"canonical text does not parse: {text!r}\n{error}") from error
    assert again == tree, text
    assert format_ast(again) == text


@settings(max_examples=100)
@given(expressions(max_depth=3))
def test_generated_ast_round_trips(tree: ast.Expr) -> None:
    _round_trip(tree)


@settings(max_examples=60)
@given(literals())
def test_literal_round_trips(tree: ast.Expr) -> None:
    _round_trip(tree)


@settings(max_examples=60)
@given(event_tests())
def test_event_test_round_trips(tree: ast.Expr) -> None:
    _round_trip(tree)


@pytest.mark.slow
@given(expressions(max_depth=4))  # examples from the profile: 60, or 3000 under --deep
def test_deep_generated_ast_round_trips(tree: ast.Expr) -> None:
    _round_trip(tree)


def test_corpus_is_present() -> None:
    assert len(CORPUS_QUERIES) >= 250


@pytest.mark.parametrize(("file", "query"), CORPUS_QUERIES)
def test_corpus_query_round_trips(file: str, query: str) -> None:
    canonical = format_query(query)
    assert parse(canonical) == parse(query), canonical
    assert format_query(canonical) == canonical


def test_format_query_rejects_bad_input() -> None:
    with pytest.raises(QuerySyntaxError):
        format_query("user's plan is")
