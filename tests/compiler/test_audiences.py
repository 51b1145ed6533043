"""Audience sets: many named queries against one snapshot in one call."""

from __future__ import annotations

import pytest

from segmentql.compiler import compile_audiences
from segmentql.errors import QueryError

AUDIENCES = {
    "pro": 'user\'s plan is "pro"',
    "adult_pro": 'user\'s plan is "pro" and user\'s age >= 18',
    "berlin": 'user\'s address\'s city is "Berlin"',
    "recent": "user has viewed a page in the last 7 days",
    "broken_data": "user's age > 3 and user's plan is \"pro\"",
}


def test_evaluate_and_matching() -> None:
    audiences = compile_audiences(AUDIENCES)
    assert len(audiences) == 5
    variables = {
        "user": {"plan": "pro", "age": 30, "address": {"city": "Berlin"}},
        "events": [{"type": "pageOpened", "timestamp": "2024-07-23T10:00:00Z",
                    "sessionId": "s", "properties": {}}],
    }
    result = audiences.evaluate(variables, now="2024-07-24T12:00:00Z")
    assert result == {"pro": True, "adult_pro": True, "berlin": True, "recent": True,
                      "broken_data": True}
    assert audiences.matching({"user": {"plan": "free", "age": "x"}},
                              now="2024-07-24T12:00:00Z") == []


def test_shared_reads_and_fallback_paths() -> None:
    audiences = compile_audiences(AUDIENCES)
    custom = {"user": {"custom": {"plan": "pro"}, "age": 20}}
    assert audiences.matching(custom, now="2024-07-24T12:00:00Z") == [
        "pro", "adult_pro", "broken_data"
    ]
    assert "_ENTRY_general" in audiences.source


def test_compile_errors_name_the_audience() -> None:
    with pytest.raises(QueryError) as raised:
        compile_audiences({"ok": "true", "bad": "user's plan is"})
    assert all(d.message.startswith("bad: ") for d in raised.value.diagnostics)
