"""The plain fast path of `matches` agrees with `evaluate` on the shapes it special-cases:
bare exact-case reads with the miss resolved later, hoisted dicts read through, `count`
compared inline, literal regexes."""

from __future__ import annotations

from typing import Any

import pytest

import segmentql

QUERIES = [
    'user\'s plan is "pro"',
    'user\'s verified is true',
    'not (user\'s verified is false) and count of user\'s interests >= 2',
    'count of user\'s interests < 2',
    'user\'s interests include "sports"',
    'user\'s interests contains either ["sports", "travel"]',
    'user\'s plan is in ["pro", "team"]',
    'user\'s age is between 18 and 65',
    'user\'s age > 17',
    '(user\'s address\'s city is "Berlin" or user\'s address\'s city is "Munich") '
    'and not user\'s address\'s country is "FR"',
    'user\'s address\'s city is "Berlin" or user\'s address\'s city is null',
    'user\'s email matches ~/@acme\\.com$/i',
    'not (user\'s email matches ~/^ann@/)',
    'user\'s plan does not match "r"',
    # negated slow branches (closures built at codegen time) and a virtual attribute
    'not (user\'s age >= 18) or user\'s email does not end with "@acme.com"',
    'not (user\'s age is between 18 and 65) and user\'s interests contains none of '
    '["a", "b", "c", "d", "e"]',
    'user\'s address\'s city starts with "Ber" and user\'s address\'s country is not "FR"',
    'user\'s interests contains all of ["sports", "travel"] or user\'s age < 40',
]

PROFILES: list[dict[str, Any]] = [
    {"user": {"plan": "pro", "verified": True, "interests": ["sports", "x"], "age": 30,
              "email": "ann@ACME.com", "address": {"city": "Berlin", "country": "DE"}}},
    {"user": {"PLAN": "pro", "Verified": False, "Interests": ["travel"], "AGE": 18}},
    # an exact key holding null wins over another spelling
    {"user": {"Plan": "pro", "plan": None, "VERIFIED": False, "verified": None,
              "Interests": ["sports", "travel"], "interests": None}},
    {"user": {"Plan": [], "plan": None}},
    {"user": {"address": None}},
    {"user": {"address": "Berlin"}},
    {"user": {"address": {"CITY": "Munich", "Country": "FR"}}},
    {"user": {"address": {"city": None, "City": "Berlin"}}},
    {"user": {"interests": "sports", "age": 17.5, "email": 3}},
    {"user": {"interests": {"a": "sports"}, "age": True, "email": "ann@acme.co\u212a"}},
    {"user": None},
    {"User": {"plan": "pro"}},
    {"user": {"birthDate": "1990-05-01", "Email": "b@acme.com", "ADDRESS": {"city": "Bern"}}},
    {"user": {"age": None, "Age": 20, "interests": ["sports", "travel", "e"]}},
    {},
]


@pytest.mark.parametrize("text", QUERIES)
def test_plain_path_agrees_with_evaluate(text: str) -> None:
    query = segmentql.compile(text)
    for profile in PROFILES:
        try:
            expected = query.evaluate(profile) is True
        except segmentql.EvaluationError:
            expected = False
        assert query.matches(profile) is expected, (text, profile)


def test_exact_key_holding_null_is_a_hit() -> None:
    query = segmentql.compile('user\'s plan is "pro"')
    assert query.matches({"user": {"Plan": "pro", "plan": None}}) is False
    assert query.matches({"user": {"Plan": "pro"}}) is True


def test_audience_set_reads_through_hoisted_dicts_like_single_queries() -> None:
    from segmentql.compiler import compile_audiences

    texts = {
        "berlin": 'user\'s address\'s city is "Berlin"',
        "not_fr": 'not (user\'s address\'s country is "FR")',
        "munich": 'user\'s address\'s city is "Munich" or user\'s address\'s country is "DE"',
    }
    audiences = compile_audiences(texts)
    for profile in PROFILES:
        expected = {name: segmentql.compile(text).matches(profile)
                    for name, text in texts.items()}
        assert audiences.evaluate(profile) == expected, profile
