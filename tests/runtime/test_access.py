"""Attribute resolution (spec §3) through the compiled queries and the read helpers."""

from __future__ import annotations

import datetime as dt

from pyrsistent import pmap, pvector

from segmentql.compiler import compile_query
from segmentql.runtime.access import fold_get, query_map, read_index
from segmentql.runtime.errors import MISSING, ErrorValue


def value(text: str, variables: object, **kwargs: object) -> object:
    return compile_query(text).evaluate(variables, **kwargs)  # type: ignore[arg-type]


def test_custom_first_then_key_then_virtual() -> None:
    assert value("user's plan", {"user": {"plan": "free", "custom": {"plan": "pro"}}}) == "pro"
    assert value("user's plan", {"user": {"plan": "free", "custom": {"plan": None}}}) == "free"
    # a custom attribute shadows the standard one whatever the case of either name
    assert value("user's plan", {"user": {"custom": {"PLAN": "x"}, "plan": "y"}}) == "x"
    assert value("user's name", {"user": {"firstName": "Ann"}}) == "Ann"
    assert value("user's name", {"user": {"name": "Stored", "firstName": "A"}}) == "Stored"


def test_exact_case_wins_over_folded_case() -> None:
    assert value("user's Plan", {"user": {"plan": "low", "Plan": "exact"}}) == "exact"
    assert value("user's PLAN", {"user": {"plan": "low"}}) == "low"
    assert value("USER's plan", {"user": {"plan": "low"}}) == "low"


def test_age_uses_the_evaluation_clock() -> None:
    variables = {"user": {"birthDate": "2000-07-25"}}
    assert value("user's age", variables, now="2024-07-24T12:00:00Z") == 23
    assert value("user's age", variables, now="2024-07-25T12:00:00Z") == 24
    q = compile_query("user's age >= 24")
    assert q.matches(variables, now=dt.datetime(2024, 7, 25, tzinfo=dt.UTC)) is True
    assert q.matches(variables, now=dt.datetime(2024, 7, 24, tzinfo=dt.UTC)) is False


def test_pyrsistent_snapshots_read_like_dicts() -> None:
    snapshot = pmap({
        "user": pmap({"plan": "pro", "custom": pmap({"tier": "gold"}),
                      "tags": pvector(["a", "b"])}),
    })
    q = compile_query('user\'s plan is "pro" and user\'s tier is "gold" and user\'s tags include "b"')
    assert q.matches(snapshot) is True
    assert q.evaluate(snapshot) is True
    assert compile_query("count of user's tags").evaluate(snapshot) == 2


def test_reading_through_scalars_is_an_error_value() -> None:
    q = compile_query("user's plan's name")
    assert q.matches({"user": {"plan": "pro"}}) is False
    assert q.explain({"user": {"plan": "pro"}}).error is not None


def test_helpers() -> None:
    assert fold_get({"Abc": 1}, "abc") == 1
    assert fold_get({"Abc": 1}, "x") is MISSING
    assert query_map("https://x/?a=1&b[]=2&b[]=3&a=4") == {"a": ["1", "4"], "b": ["2", "3"]}
    assert read_index([1, 2], 5) is None
    assert read_index("abc", -1) == "c"
    assert isinstance(read_index([1], "x"), ErrorValue)
