"""The grammar corpus: every valid query parses, goldens match, invalid ones give their code."""

from __future__ import annotations

import json

import pytest
from syntax_corpus import Invalid, Valid, invalid_queries, label, valid_queries

from segmentql.syntax.ast_json import from_json, to_json
from segmentql.syntax.parser import parse, parse_with_diagnostics

VALID = valid_queries()
INVALID = invalid_queries()


def test_corpus_size() -> None:
    assert len({v.query for v in VALID}) >= 250
    assert len(INVALID) >= 80
    assert sum(1 for v in VALID if v.ast is not None) >= 40


def test_every_valid_file_is_used() -> None:
    files = {v.file for v in VALID}
    for construct in ("literals", "accessors", "logic", "comparison", "arithmetic",
                      "conditional", "tests", "quantifiers", "macros", "modifiers", "events",
                      "comments", "reference", "golden"):
        assert f"{construct}.yaml" in files


@pytest.mark.parametrize("case", VALID, ids=[f"{v.file}:{label(v.query)}" for v in VALID])
def test_valid_query_parses(case: Valid) -> None:
    result = parse_with_diagnostics(case.query)
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.diagnostics == []


GOLDEN = [v for v in VALID if v.ast is not None]


@pytest.mark.parametrize("case", GOLDEN, ids=[label(v.query) for v in GOLDEN])
def test_golden_ast(case: Valid) -> None:
    node = parse(case.query)
    assert to_json(node) == case.ast
    expected = from_json(case.ast)  # type: ignore[arg-type]
    assert expected == node
    assert [n.span for n in expected.walk()] == [n.span for n in node.walk()]


@pytest.mark.parametrize("case", INVALID, ids=[f"{c.code}:{label(c.query)}" for c in INVALID])
def test_invalid_query(case: Invalid) -> None:
    result = parse_with_diagnostics(case.query)
    assert not result.ok
    errors = [d for d in result.diagnostics if d.is_error]
    first = errors[0]
    assert (first.code, first.span.start, first.span.end) == (case.code, case.start, case.end)
    assert first.message
    json.dumps([d.to_json() for d in result.diagnostics])  # diagnostics are plain data
