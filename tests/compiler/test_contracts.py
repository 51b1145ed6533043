"""The exact contracts of evaluation (issue #12, "broken contracts" and "raw Python
exceptions"), each with the example the issue names."""

from __future__ import annotations

import contextlib
import json
import re
import time
from decimal import Decimal
from typing import Any

import pytest

import segmentql
from segmentql import EvaluationError, QuerySyntaxError, SegmentqlError
from segmentql.compiler.query import json_value

HUGE = 10**400  # no float holds it: multiplying it by a float raises inside the helper


class LoudEquals:
    """A data value whose `==` answers with a string (and whose truth is a string too)."""

    def __eq__(self, other: object) -> Any:
        return "yes"

    def __ne__(self, other: object) -> Any:
        return ""

    __hash__ = object.__hash__


def _raises(text: str, variables: dict[str, Any] | None = None) -> str:
    query = segmentql.compile(text)
    assert query.matches(variables or {}) is False
    with pytest.raises(EvaluationError) as info:
        query.evaluate(variables or {})
    return info.value.code


@pytest.mark.parametrize("text", [
    'user\'s plan is "pro"',
    'user\'s plan is not "pro"',
    "user's plan == 3",
    'user\'s plan is "pro" and user\'s age > 1',
    'user\'s plan is "pro" or user\'s age > 1',
])
def test_matches_is_exactly_a_bool_whatever_eq_returns(text: str) -> None:
    variables = {"user": {"plan": LoudEquals(), "age": 0}}
    query = segmentql.compile(text)
    assert query.matches(variables) in (True, False)
    assert type(query.matches(variables)) is bool
    audiences = segmentql.compile_audiences({"a": text, "b": 'user\'s plan is "x"'})
    assert all(type(v) is bool for v in audiences.evaluate(variables).values())


def test_an_exception_inside_an_operation_is_an_error_value_or_absorbs() -> None:
    variables = {"context": {"x": HUGE}, "user": {"plan": "pro"}}
    either = segmentql.compile('context\'s x * 1e0 > 1 or user\'s plan is "pro"')
    assert either.matches(variables) is True
    assert either.evaluate(variables) is True
    both = segmentql.compile('context\'s x * 1e0 > 1 and user\'s plan is "free"')
    assert both.matches(variables) is False
    assert both.evaluate(variables) is False
    fallback = segmentql.compile("(context's x * 1e0 > 1) ?? true")
    with pytest.raises(EvaluationError) as info:  # `??` replaces null, not errors
        fallback.evaluate(variables)
    assert info.value.code == "Q315"
    assert _raises("context's x * 1e0 > 1", variables) == "Q315"


def test_a_nan_event_timestamp_does_not_hide_a_true_branch() -> None:
    variables = {"user": {"plan": "pro"},
                 "events": [{"type": "page", "timestamp": float("nan"), "properties": {}}]}
    query = segmentql.compile('user has viewed a page or user\'s plan is "pro"')
    assert query.matches(variables, now="2024-07-31T12:00:00Z") is True


@pytest.mark.parametrize("nan", [float("nan"), Decimal("NaN")])
@pytest.mark.parametrize("text", [
    "user's score >= 90", "user's score <= 10", "user's score is between 10 and 90",
    "user's score > 0", "user's score < 0", "user's score >= 90 and user's score <= 10",
])
def test_nan_is_unordered(text: str, nan: Any) -> None:
    query = segmentql.compile(text)
    assert query.matches({"user": {"score": nan}}) is False
    assert query.evaluate({"user": {"score": nan}}) is False


@pytest.mark.parametrize(("text", "code"), [
    ("[1 / 0, 2] is empty", "Q302"),
    ("count of [1, 1 / 0] > 0", "Q302"),
    ('["a": 1 / 0] is empty', "Q302"),
    ('(1 / 0) & "x" is "x"', "Q302"),
    ('([user\'s n / 0] as string) is "x"', "Q302"),
])
def test_error_values_never_hide_inside_lists_or_text(text: str, code: str) -> None:
    assert _raises(text, {"user": {"n": 1}}) == code


def test_results_never_contain_error_values() -> None:
    query = segmentql.compile("[user's n, user's n / 0]")
    with pytest.raises(EvaluationError) as info:
        query.evaluate({"user": {"n": 1}})
    assert info.value.code == "Q302"
    result = segmentql.compile("[user's n, 2]").evaluate({"user": {"n": 1}})
    assert "ErrorValue" not in repr(result)


@pytest.mark.parametrize(("text", "variables", "code"), [
    ("user's x ** 0.5 > 0", {"user": {"x": -8.0}}, "Q305"),
    ("(-8) ** 0.5 > 0", {}, "Q305"),
    ('("1e300" as integer) > 0', {}, "Q305"),
    ("(user's x as integer) > 0", {"user": {"x": 1e300}}, "Q305"),
    ("(user's x as float) > 0", {"user": {"x": Decimal("1e999")}}, "Q305"),
    ("(user's x as integer) > 0", {"user": {"x": float("inf")}}, "Q303"),
])
def test_numbers_stay_in_our_types_and_ranges(
    text: str, variables: dict[str, Any], code: str
) -> None:
    assert _raises(text, variables) == code


def test_a_compiled_pattern_in_data_is_data() -> None:
    evil = re.compile(r"(a+)+$")
    variables = {"user": {"s": "a" * 40 + "b"}, "context": {"p": evil}}
    query = segmentql.compile("user's s matches context's p")
    started = time.perf_counter()
    assert query.matches(variables) is False
    with pytest.raises(EvaluationError) as info:
        query.evaluate(variables)
    assert info.value.code == "Q301"
    # Python's backtracking engine needs minutes on this; the query never called it
    assert time.perf_counter() - started < 60


def test_explaining_cyclic_and_deep_data_gives_our_output() -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    loop: dict[str, Any] = {}
    loop["self"] = loop
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    query = segmentql.compile("context's a is not empty and context's d is defined")
    for a, d in ((cyclic, loop), (deep, float("nan")), (deep, deep)):
        explanation = query.explain({"context": {"a": a, "d": d}})
        text = explanation.render()
        assert "…" in text
        json.dumps(explanation.to_json(), allow_nan=False)


def test_evaluating_deep_or_cyclic_data_is_an_error_value() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert _raises("(context's a as string) is \"x\"", {"context": {"a": deep}}) == "Q300"
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert _raises("(context's a as string) is \"x\"", {"context": {"a": cyclic}}) == "Q300"
    with pytest.raises(EvaluationError) as info:
        segmentql.compile("context's a").evaluate({"context": {"a": cyclic}})
    assert info.value.code == "Q300"


def test_json_values_are_strict() -> None:
    value = json_value({"a": float("nan"), "b": [float("inf"), Decimal("-Infinity")]})
    assert json.loads(json.dumps(value, allow_nan=False)) == {
        "a": "NaN", "b": ["Infinity", "-Infinity"]}


@pytest.mark.parametrize("text", [
    'user\'s plan ıs "pro"',        # dotless i
    'user\'s plan iſ "pro"',        # long s
    "some x in [1] ſatisfies x > 0",
    'user\'s plan is "pro" \u212aND true',  # Kelvin sign
    'user\'s İcon is "x"',
    "let İ = 1; İ > 0",
])
def test_case_folding_look_alikes_are_syntax_errors(text: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        segmentql.parse(text)
    assert "internal" not in str(info.value)
    assert info.value.diagnostics[0].code in ("Q100", "Q101")
    assert any(d.is_error for d in segmentql.check(text))


@pytest.mark.parametrize("name", ["plan", "İcon", "ſtate", "\u212aey", "ıd", "a b", "Straße"])
def test_format_round_trips_every_name(name: str) -> None:
    from segmentql.syntax import ast as A
    from segmentql.syntax.formatter import format_ast

    text = f'user[{json.dumps(name, ensure_ascii=False)}] is "x"'
    tree = segmentql.parse(text)
    assert segmentql.parse(segmentql.format(text)) == tree
    node = A.Test(A.TestOp.EQUAL, A.Attribute(A.Variable("user"), name), (A.StringLiteral("x"),))
    again = segmentql.parse(format_ast(node))
    value = {"user": {name: "x"}}
    assert segmentql.compile(format_ast(node)).matches(value) is True
    assert again is not None


def test_only_our_errors_from_the_public_entry_points() -> None:
    bad_inputs = ["", "(((", "user's", '"\\', "\x00", "ſome", "let x = ; x", "1 ** 99999999"]
    for text in bad_inputs:
        for entry in (segmentql.parse, segmentql.format, segmentql.compile):
            with contextlib.suppress(SegmentqlError):
                entry(text)
        assert isinstance(segmentql.check(text), list)
