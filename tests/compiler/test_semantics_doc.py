"""Every `example` block of docs/semantics.md evaluates to the value (or error) it states."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from segmentql.compiler import compile_query
from segmentql.compiler.query import json_value
from segmentql.errors import EvaluationError

DOC = Path(__file__).resolve().parents[2] / "docs" / "semantics.md"
BLOCK = re.compile(r"^```example\n(.*?)^```", re.S | re.M)


def _examples() -> list[dict[str, Any]]:
    blocks = [yaml.safe_load(m.group(1)) for m in BLOCK.finditer(DOC.read_text("utf-8"))]
    assert len(blocks) >= 60, "the semantics page lost its examples"
    return blocks


EXAMPLES = _examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["query"][:60] for e in EXAMPLES])
def test_example(example: dict[str, Any]) -> None:
    query = compile_query(str(example["query"]))
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
    result = json_value(query.evaluate(variables, **kwargs))
    assert result == example["value"]
    assert type(result) is type(example["value"]) or isinstance(result, int | float)
    assert query.matches(variables, **kwargs) is (example["value"] is True)
