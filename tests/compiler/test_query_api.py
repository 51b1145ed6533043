"""The `Query` API: compile, cache, evaluate, matches, error values, host functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from segmentql.compiler import Query, compile_query
from segmentql.errors import EvaluationError, QueryError
from segmentql.schema import Schema


def test_compile_is_cached_by_text_schema_and_expect() -> None:
    a = compile_query('user\'s plan is "pro"')
    assert compile_query('user\'s plan is "pro"') is a
    assert compile_query('user\'s plan is "pro"', expect=bool) is not a
    assert isinstance(a, Query)
    assert a.text == 'user\'s plan is "pro"'
    assert a.ast is not None


def test_compile_errors_carry_diagnostics() -> None:
    with pytest.raises(QueryError) as raised:
        compile_query("user's plan is")
    assert raised.value.diagnostics
    assert all(d.code.startswith("Q1") for d in raised.value.diagnostics if d.is_error)
    with pytest.raises(QueryError) as bad_regex:
        compile_query("user's email matches ~/(a)\\1/")
    assert "Q211" in [d.code for d in bad_regex.value.diagnostics]


def test_evaluate_raises_evaluation_error_with_span_and_code() -> None:
    q = compile_query("user's plan is \"pro\" and user's age > 18")
    with pytest.raises(EvaluationError) as raised:
        q.evaluate({"user": {"plan": "pro", "age": "25"}})
    assert raised.value.code == "Q307"
    span = raised.value.span
    assert q.text[span.start:span.end] == "user's age > 18"
    assert q.matches({"user": {"plan": "pro", "age": "25"}}) is False


def test_matches_is_true_only_for_true() -> None:
    assert compile_query("user's plan").matches({"user": {"plan": "pro"}}) is False
    assert compile_query("1").matches({}) is False
    assert compile_query("true").matches({}) is True


@pytest.mark.parametrize(
    "variables",
    [None, 42, "text", [], {"user": 5}, {"user": None}, {"user": [1]}, {"user": {"plan": object()}},
     {"user": {"custom": "not a map"}}, {"events": "x"}],
)
def test_matches_never_raises_on_data(variables: object) -> None:
    for text in ('user\'s plan is "pro"', "user has viewed a page", "not (user's age > 3)",
                 "every x in user's plan satisfies x > 1"):
        result = compile_query(text).matches(variables)  # type: ignore[arg-type]
        assert result is True or result is False


def test_values_are_exported_as_plain_python() -> None:
    assert compile_query('["a", 1]').evaluate({}) == ["a", 1]
    assert compile_query("0.1 + 0.2").evaluate({}) == Decimal("0.3")
    assert compile_query("today").evaluate({}, now="2024-07-24T23:30:00Z",
                                           time_zone="Asia/Tokyo") == dt.date(2024, 7, 25)


def test_bad_time_zone_is_a_clear_error() -> None:
    with pytest.raises(EvaluationError) as raised:
        compile_query("today").evaluate({}, time_zone="Nowhere/Land")
    assert raised.value.code == "Q310"


def test_host_functions() -> None:
    def discount(plan: str) -> int:
        return {"pro": 20}.get(plan, 0)

    def boom(x: int) -> int:
        raise RuntimeError("exploded")

    schema = Schema.default().with_functions(discount=discount, boom=boom)
    q = compile_query("discount(user's plan) > 10", schema)
    assert q.matches({"user": {"plan": "pro"}}) is True
    assert q.matches({"user": {"plan": "free"}}) is False
    failing = compile_query("boom(1) > 0 or user's plan is \"pro\"", schema)
    assert failing.matches({"user": {"plan": "pro"}}) is True
    with pytest.raises(EvaluationError) as raised:
        failing.evaluate({"user": {"plan": "free"}})
    assert raised.value.code == "Q309"
    assert "exploded" in raised.value.message


def test_generic_and_general_paths_agree_with_the_fast_path() -> None:
    q = compile_query('user\'s plan is "pro" and user\'s address\'s city is "Berlin"')
    plain = {"user": {"plan": "pro", "address": {"city": "Berlin"}}}
    custom = {"user": {"custom": {"plan": "pro"}, "Address": {"CITY": "Berlin"}}}
    assert q.matches(plain) is q.evaluate(plain) is True
    assert q.matches(custom) is q.evaluate(custom) is True
