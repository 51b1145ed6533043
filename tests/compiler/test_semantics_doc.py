"""Every `example` block of docs/semantics.md evaluates to the value (or error) it states.

A block is YAML: `query`, optional `variables`, `now`, `time_zone`, then one of `value` (the
result in JSON form), `error` (a run-time error code) or `compile_error` (a diagnostic code the
compiler reports). `schema: host` compiles with the default schema plus the host functions
`discount` and `boom` defined here, and `budget` (a mapping of `Budget` fields) compiles under
that budget. `type` optionally names the Python type of the raw result (`int`,
`Decimal`, `float`, `str`, ...) where the JSON form alone cannot tell them apart.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from segmentql import Schema
from segmentql.compiler import compile_query
from segmentql.compiler.query import json_value
from segmentql.errors import EvaluationError, QueryError
from segmentql.runtime.budget import DEFAULT_BUDGET, Budget

DOC = Path(__file__).resolve().parents[2] / "docs" / "semantics.md"
BLOCK = re.compile(r"^```example\n(.*?)^```", re.S | re.M)
OUTCOMES = ("value", "error", "compile_error")


def discount(plan: str) -> int:
    """The percentage off for a plan (the host function of the doc's examples)."""
    return {"pro": 20}.get(plan, 0)


def boom(x: int) -> int:
    """A host function that always fails."""
    raise RuntimeError("exploded")


SCHEMAS: dict[str, Schema | None] = {
    "default": None,
    "host": Schema.default().with_functions(discount=discount, boom=boom),
}


def _examples() -> list[dict[str, Any]]:
    blocks = [yaml.safe_load(m.group(1)) for m in BLOCK.finditer(DOC.read_text("utf-8"))]
    assert len(blocks) >= 150, "the semantics page lost its examples"
    return blocks


EXAMPLES = _examples()


def test_every_example_states_one_outcome() -> None:
    for example in EXAMPLES:
        stated = [key for key in OUTCOMES if key in example]
        assert len(stated) == 1, f"{example['query']!r} states {stated or 'no outcome'}"


def test_every_decision_has_an_example() -> None:
    # A decision paragraph is followed by at least one executed example before the next rule.
    body = DOC.read_text("utf-8").split("\n## ", 1)[1]
    for part in body.split("**Decision:**")[1:]:
        rule = part.split("\n\n")[0]
        following = part.split("\n## ")[0]
        assert "```example" in following, f"decision without an example: {rule[:80]!r}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["query"][:60] for e in EXAMPLES])
def test_example(example: dict[str, Any]) -> None:
    schema = SCHEMAS[example.get("schema", "default")]
    if "compile_error" in example:
        with pytest.raises(QueryError) as failed:
            compile_query(str(example["query"]), schema)
        codes = [d.code for d in failed.value.diagnostics if d.is_error]
        assert example["compile_error"] in codes
        return
    budget = Budget(**example["budget"]) if "budget" in example else DEFAULT_BUDGET
    query = compile_query(str(example["query"]), schema, budget=budget)
    kwargs: dict[str, Any] = {
        "now": example.get("now"),
        "time_zone": example.get("time_zone", "UTC"),
    }
    variables = example.get("variables") or {}
    if "error" in example:
        with pytest.raises(EvaluationError) as raised:
            query.evaluate(variables, **kwargs)
        assert raised.value.code == example["error"]
        assert query.matches(variables, **kwargs) is False
        return
    raw = query.evaluate(variables, **kwargs)
    result = json_value(raw)
    assert result == example["value"]
    assert type(result) is type(example["value"]) or isinstance(result, int | float)
    if "type" in example:
        assert type(raw).__name__ == example["type"]
    assert query.matches(variables, **kwargs) is (example["value"] is True)
