"""Casts, rounding, case, dedupe, sort and macros (`segmentql.runtime.modifiers`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from segmentql.runtime import modifiers as m
from segmentql.runtime.errors import ErrorValue


def code(value: object) -> str | None:
    return value.code if isinstance(value, ErrorValue) else None


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (None, "boolean", False),
        (0, "boolean", False),
        (Decimal("1.0"), "boolean", True),
        ("false", "boolean", False),
        ("1", "boolean", True),
        (None, "string", ""),
        (Decimal("1.50"), "string", "1.50"),
        ("42", "integer", 42),
        ("2.0", "integer", 2),
        ("1.50", "number", Decimal("1.50")),
        ("1e3", "number", 1000.0),
        (3, "decimal", Decimal(3)),
        (0.1, "decimal", Decimal("0.1")),
        ("2024-07-24T10:00:00Z", "date", dt.date(2024, 7, 24)),
        ("12:30", "time", dt.time(12, 30)),
        (None, "collection", []),
    ],
)
def test_casts(value: object, target: str, expected: object) -> None:
    got = m.cast(value, target)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "target"),
    [(2, "boolean"), ("yes", "boolean"), ("2.5", "integer"), (True, "number"),
     ("abc", "decimal"), ("x", "date"), (5, "collection")],
)
def test_impossible_casts(value: object, target: str) -> None:
    assert code(m.cast(value, target)) == "Q303"


@pytest.mark.parametrize(
    ("value", "mode", "scale", "expected"),
    [
        (Decimal("2.5"), "up", 0, Decimal("3")),
        (Decimal("-2.5"), "up", 0, Decimal("-3")),
        (Decimal("2.5"), "down", 0, Decimal("2")),
        (Decimal("2.5"), "half even", 0, Decimal("2")),
        (Decimal("3.5"), "half odd", 0, Decimal("3")),
        (Decimal("2.5"), "half odd", 0, Decimal("3")),
        (Decimal("1.5"), "half even", 2, Decimal("1.50")),
        (1234, "half up", -2, 1200),
        (2.5, "half even", 0, 2.0),
    ],
)
def test_rounding(value: object, mode: str, scale: int, expected: object) -> None:
    got = m.round_value(value, mode, scale)
    assert got == expected and type(got) is type(expected)
    assert str(got) == str(expected)


def test_case_dedupe_sort() -> None:
    assert m.change_case("hello WORLD", "title") == "Hello World"
    assert m.change_case("hello WORLD", "sentence") == "Hello world"
    assert m.without_duplicates([1, 1.0, "1", Decimal("1")]) == [1, "1"]
    assert m.without_duplicates({"a": 1, "b": 1, "c": 2}) == {"a": 1, "c": 2}
    assert m.sort_values([3, 1, 2], "descending", "natural") == [3, 2, 1]
    assert m.sort_values(["b10", "b9"], "ascending", "alphanumerical") == ["b9", "b10"]
    assert m.sort_values({"x": 2, "y": 1}, "ascending", "natural") == {"y": 1, "x": 2}
    assert code(m.sort_values([1, "a"], "ascending", "natural")) == "Q307"


def test_macros() -> None:
    assert m.count_of(None) == 0
    assert m.sum_of([1, Decimal("2.5"), None]) == Decimal("3.5")
    assert code(m.extreme_of([], largest=False)) == "Q306"
    assert m.extreme_of(["b", "a"], largest=True) == "b"
    assert m.average_of([1, 2]) == Decimal("1.5")
    assert m.first_of([], last=True) is None
    assert m.keys_of({"a": 1}) == ["a"]
    assert m.keys_of(["x", "y"]) == [0, 1]
    assert m.number_between("days", "2024-01-01", "2024-01-31") == 30
    assert code(m.number_between("days", "nope", "2024-01-31")) == "Q310"


def test_collection_work_stays_linear_in_the_data() -> None:
    import time

    from segmentql.runtime.predicates import contains_all

    big = list(range(50_000)) + [float(i) for i in range(50_000)]
    start = time.perf_counter()
    assert len(m.without_duplicates(big)) == 50_000
    assert contains_all(big, list(range(0, 50_000, 7))) is True
    assert time.perf_counter() - start < 5  # quadratic work would take minutes
