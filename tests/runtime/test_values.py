"""Equality, ordering and text rules of `segmentql.runtime.values`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.values import (
    CURRENT_ZONE,
    Incomparable,
    compare,
    equal,
    parse_number,
    to_text,
    values_equal,
)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1, 1.0, True),
        (1, Decimal("1.00"), True),
        (0.3, Decimal("0.3"), True),
        (0.1 + 0.2, Decimal("0.3"), False),
        (True, 1, False),
        (False, 0, False),
        (True, True, True),
        ("1", 1, False),
        (None, None, True),
        (None, 0, False),
        ([1, "a"], (1.0, "a"), True),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
        ({"a": 1}, [1], False),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 1), True),
        (float("nan"), float("nan"), False),
    ],
)
def test_values_equal(a: object, b: object, expected: bool) -> None:
    assert values_equal(a, b) is expected
    assert values_equal(b, a) is expected


def test_equal_propagates_the_first_error() -> None:
    e1 = ErrorValue("Q301", "one")
    e2 = ErrorValue("Q307", "two")
    assert equal(e1, e2) is e1
    assert equal(1, e2) is e2


def test_date_and_datetime_compare_as_instants_in_the_zone() -> None:
    day = dt.date(2024, 7, 24)
    berlin_midnight = dt.datetime(2024, 7, 23, 22, 0, tzinfo=dt.UTC)
    token = CURRENT_ZONE.set(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    try:
        assert values_equal(day, berlin_midnight)
        assert compare(day, berlin_midnight + dt.timedelta(seconds=1)) == -1
    finally:
        CURRENT_ZONE.reset(token)


def test_ordering() -> None:
    assert compare(1, Decimal("1.5")) == -1
    assert compare(0.3, Decimal("0.3")) == 0
    assert compare("b", "a") == 1
    assert compare(dt.date(2024, 1, 2), "2024-01-01") == 1
    with pytest.raises(Incomparable):
        compare("a", 1)
    with pytest.raises(Incomparable):
        compare(True, False)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (None, ""),
        (10, "10"),
        (Decimal("1.0"), "1.0"),
        (Decimal("1E+2"), "100"),
        (0.1, "0.1"),
        (dt.date(2024, 7, 1), "2024-07-01"),
        (["a", 1, None], '["a", 1, null]'),
        ({}, "[:]"),
    ],
)
def test_to_text(value: object, text: str) -> None:
    assert to_text(value) == text


def test_parse_number() -> None:
    assert parse_number(" 42 ") == 42
    assert parse_number("1.50") == Decimal("1.50")
    assert parse_number("1e3") == 1000.0
    assert parse_number("abc") is None
    assert parse_number("inf") is None
    assert parse_number("") is None
