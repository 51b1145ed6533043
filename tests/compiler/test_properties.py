"""Property tests: negated tests are exactly `not`; `matches` never raises on generated
profiles; the three renderings (evaluate, matches, explain) agree; plain, generic and prepared
variables agree; threads agree."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from segmentql.compiler import compile_audiences, compile_query
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.prepared import Prepared, prepare

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 40), st.sampled_from([0.3, 1.0, -2.5]),
    st.sampled_from([Decimal("0.3"), Decimal("18.0")]),
    st.sampled_from(["pro", "free", "PRO", "", "sports", "2024-07-24", "25", "@acme.com"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["plan", "age", "city", "custom", "Plan", "Custom"]), inner,
                        max_size=3),
    ),
    max_leaves=6,
)
ATTRS = ["plan", "age", "interests", "email", "address", "custom", "Plan", "stats", "id",
         "Custom"]
users = st.one_of(values, st.dictionaries(st.sampled_from(ATTRS), values, max_size=6))
profiles = st.fixed_dictionaries(
    {}, optional={"user": users, "session": users, "events": values, "cart": values}
)

# (positive, negated) pairs of every test form
TESTS = [
    ('user\'s plan is "pro"', 'user\'s plan is not "pro"'),
    ("user's age is 18", "user's age is not 18"),
    ("user's age is equal to 18.0", "user's age is not equal to 18.0"),
    ('user\'s plan is equal to "PRO" ignoring case', 'user\'s plan is not equal to "PRO" ignoring case'),
    ("user's age is greater than 17", "user's age is not greater than 17"),
    ("user's age is less than or equal to 30", "user's age is not less than or equal to 30"),
    ("user's age is between 18 and 30", "user's age is not between 18 and 30"),
    ('user\'s email starts with "a"', 'user\'s email does not start with "a"'),
    ('user\'s email ends with "@acme.com"', 'user\'s email does not end with "@acme.com"'),
    ('user\'s plan matches "r"', 'user\'s plan does not match "r"'),
    ("user's plan matches ~/^p/i", "user's plan does not match ~/^p/i"),
    ('user\'s interests contains "sports"', 'user\'s interests does not contain "sports"'),
    ('user\'s plan is in ["pro", "free"]', 'user\'s plan is not in ["pro", "free"]'),
    ('user\'s interests contains all of ["a"]', 'user\'s interests does not contain all of ["a"]'),
    ('user\'s interests contains either ["sports"]',
     'user\'s interests does not contain either ["sports"]'),
    ("user's plan is defined", "user's plan is not defined"),
    ("user's plan is empty", "user's plan is not empty"),
    ("user is identified", "user is not identified"),
    ("user is returning", "user is not returning"),
    ("session is starting", "session is not starting"),
    ('user\'s plan before "2024-01-01"', 'user\'s plan is not before "2024-01-01"'),
    ("user has viewed a page", "user has not viewed a page"),
]
COMPILED = [(compile_query(p), compile_query(n)) for p, n in TESTS]


def _value(query: Any, profile: dict[str, Any]) -> Any:
    try:
        return query.evaluate(profile, now="2024-07-24T12:00:00Z")
    except Exception as exc:  # EvaluationError for error values
        return ("error", getattr(exc, "code", None))


@given(profiles)
def test_negated_test_is_exactly_not(profile: dict[str, Any]) -> None:
    for positive, negative in COMPILED:
        p = _value(positive, profile)
        n = _value(negative, profile)
        if isinstance(p, tuple):
            assert n == p
        else:
            assert n is (not p), (positive.text, profile, p, n)


@given(profiles)
def test_matches_never_raises_and_agrees_with_evaluate(profile: dict[str, Any]) -> None:
    for positive, negative in COMPILED:
        for query in (positive, negative):
            m = query.matches(profile, now="2024-07-24T12:00:00Z")
            assert m is (_value(query, profile) is True)
            plain = query.matches(profile)
            assert plain is True or plain is False


@given(profiles)
def test_explain_agrees_with_evaluate(profile: dict[str, Any]) -> None:
    for positive, _ in COMPILED[:8]:
        explained = positive.explain(profile, now="2024-07-24T12:00:00Z").value
        expected = _value(positive, profile)
        if isinstance(expected, tuple):
            assert isinstance(explained, ErrorValue) and explained.code == expected[1]
        else:
            assert explained == expected


def _frozen(value: Any) -> Any:
    """The same data as pyrsistent maps and vectors (forces the generic read paths)."""
    from pyrsistent import pmap, pvector

    if isinstance(value, dict):
        return pmap({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return pvector(_frozen(v) for v in value)
    return value


@given(profiles)
def test_plain_and_generic_paths_agree(profile: dict[str, Any]) -> None:
    frozen = _frozen(profile)
    for positive, negative in COMPILED:
        for query in (positive, negative):
            assert query.matches(profile) is query.matches(frozen), (query.text, profile)


# queries that read several spellings, `custom` itself and whole variables (which take the
# general path on prepared variables)
CASE_QUERIES = [compile_query(text) for text in (
    'user\'s plan is "pro" and user\'s PLAN is "pro"',
    'user\'s Plan is "PRO" or user\'s age > 17',
    'user\'s custom\'s plan is "pro"',
    "user is empty",
    'user\'s city is "pro" or session\'s plan is "free"',
    "count of user's interests >= 1 or user's plan is null",
)]


@given(profiles)
def test_prepared_path_agrees(profile: dict[str, Any]) -> None:
    for prepared in (prepare(profile), Prepared(profile)):
        for query in [q for pair in COMPILED for q in pair] + CASE_QUERIES:
            assert query.matches(prepared) is query.matches(profile), (query.text, profile)
            expected = _value(query, profile)
            assert _value(query, prepared) == expected, (query.text, profile)
        assert AUDIENCE_SET.evaluate(prepared) == AUDIENCE_SET.evaluate(profile)


AUDIENCES = {f"t{i}": p for i, (p, _) in enumerate(TESTS)}
AUDIENCE_SET = compile_audiences(AUDIENCES)


@given(profiles)
def test_audience_set_agrees_with_each_query(profile: dict[str, Any]) -> None:
    got = AUDIENCE_SET.evaluate(profile, now="2024-07-24T12:00:00Z")
    for name, (positive, _) in zip(AUDIENCES, COMPILED, strict=True):
        assert got[name] is positive.matches(profile, now="2024-07-24T12:00:00Z"), name


def test_many_threads_give_the_results_of_one() -> None:
    query = compile_query(
        '(user\'s plan is "pro" or user\'s age > 20) and user\'s interests include "sports" '
        'and user\'s address\'s city is "Berlin"'
    )
    data = [
        {"user": {"plan": "pro", "interests": ["sports"], "address": {"city": "Berlin"}}},
        {"user": {"plan": "free", "age": 30, "interests": ["x"], "address": {}}},
        {"user": {"custom": {"plan": "pro"}, "interests": ["sports"],
                  "address": {"City": "Berlin"}}},
        {"user": {"age": "x", "interests": ["sports"], "address": {"city": "Berlin"}}},
        {},
    ] * 40
    expected = [query.matches(d) for d in data]
    values = [_value(query, d) for d in data]
    failures: list[str] = []

    def work() -> None:
        for _ in range(20):
            if [query.matches(d) for d in data] != expected:
                failures.append("matches")
            if [_value(query, d) for d in data] != values:
                failures.append("evaluate")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert expected[:4] == [True, False, True, False]
