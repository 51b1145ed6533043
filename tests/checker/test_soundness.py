"""The checker's types agree with run time: a query it accepts evaluates to a value of the
type it inferred (or to an error value, for data of unexpected types)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from segmentql.checker import analyze
from segmentql.syntax import ast
from segmentql.syntax.strategies import expressions

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("segmentql.compiler") is None,
    reason="segmentql.compiler (helper C) is not there yet",
)

NOW = dt.datetime(2024, 7, 31, 12, tzinfo=dt.UTC)
VARIABLES: dict[str, Any] = {
    "user": {"firstName": "Ada", "interests": ["golf"], "stats": {"sessions": 2},
             "birthDate": "1990-05-01", "custom": {"plan": "pro", "score": 3}},
    "session": {"stats": {"pageviews": 1}, "landingPage": "https://x.test/pricing"},
    "context": {"n": 3, "cities": ["Lisbon"]},
}


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(max_depth=3))
def test_accepted_queries_evaluate_to_their_inferred_type(tree: ast.Expr) -> None:
    from segmentql.compiler import compile_query
    from segmentql.errors import EvaluationError, QueryError
    from segmentql.syntax.formatter import format_ast

    text = format_ast(tree)
    analysis = analyze(text)
    if not analysis.ok or analysis.ast is None:
        return
    try:
        value = compile_query(text).evaluate(VARIABLES, now=NOW)
    except (EvaluationError, QueryError):
        return  # error values (data of other types) and compile-time limits are fine
    assert analysis.result.accepts(value), (text, analysis.result.describe(), value)
