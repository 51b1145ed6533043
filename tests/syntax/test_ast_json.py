"""The JSON form of the AST round-trips, spans included, for every corpus query."""

from __future__ import annotations

import decimal
import json

import pytest
from syntax_corpus import label, valid_queries

from segmentql.syntax import ast
from segmentql.syntax.ast_json import from_json, node_classes, to_json
from segmentql.syntax.parser import parse

QUERIES = sorted({v.query for v in valid_queries()})


@pytest.mark.parametrize("query", QUERIES, ids=[label(q) for q in QUERIES])
def test_round_trip(query: str) -> None:
    node = parse(query)
    data = json.loads(json.dumps(to_json(node)))
    back = from_json(data)
    assert back == node
    assert [n.span for n in back.walk()] == [n.span for n in node.walk()]


def test_shape() -> None:
    data = to_json(parse("x as date"))
    assert data["type"] == "Cast"
    assert data["type_"] == "date"
    assert data["operand"] == {
        "type": "Variable", "name": "x",
        "span": {"start": 0, "end": 1, "line": 1, "column": 1, "end_line": 1, "end_column": 2},
    }


def test_scalars() -> None:
    data = to_json(parse("1.50 days"))
    assert (data["amount"], data["unit"]) == ("1.50", "day")
    assert from_json(data) == ast.DurationLiteral(decimal.Decimal("1.50"), ast.DurationUnit.DAY)
    assert to_json(parse("1e3"))["value"] == 1000.0
    assert from_json({"type": "FloatLiteral", "value": 2}) == ast.FloatLiteral(2.0)


def test_every_node_class_is_known() -> None:
    classes = node_classes()
    assert "Node" not in classes
    assert {"EventTest", "Criterion", "CriteriaGroup", "MapEntry", "Binding"} <= set(classes)


@pytest.mark.parametrize(
    "data",
    [{}, {"type": "Nope"}, {"type": "Binary", "op": "+"}, [], {"type": "Variable", "name": 1,
                                                              "bogus": 2}],
)
def test_bad_documents_raise_value_error(data: object) -> None:
    with pytest.raises(ValueError):
        from_json(data)  # type: ignore[arg-type]
