"""Arithmetic, logic and ranges (`segmentql.runtime.operators`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from segmentql.runtime import operators as op
from segmentql.runtime.errors import ErrorValue


def _code(value: object) -> str | None:
    return value.code if isinstance(value, ErrorValue) else None


def test_exact_decimals_and_types() -> None:
    assert op.add(Decimal("0.1"), Decimal("0.2")) == Decimal("0.3")
    assert op.add(1, 2) == 3 and type(op.add(1, 2)) is int
    assert type(op.add(1, 0.5)) is float
    assert op.divide(7, 2) == Decimal("3.5")
    assert op.divide(4, 2) == 2 and type(op.divide(4, 2)) is int
    assert op.modulo(-7, 3) == -1
    assert op.percent(20) == Decimal("0.2")


def test_arithmetic_errors() -> None:
    assert _code(op.divide(1, 0)) == "Q302"
    assert _code(op.modulo(1, 0)) == "Q302"
    assert _code(op.add(2**63 - 1, 1)) == "Q305"
    assert _code(op.power(2, 10**9)) == "Q305"
    assert _code(op.add("a", 1)) == "Q301"
    assert _code(op.add(True, 1)) == "Q301"


def test_null_and_errors_propagate() -> None:
    e = ErrorValue("Q301", "x")
    assert op.add(None, 1) is None
    assert op.multiply(e, None) is e
    assert op.concat(e, "a") is e
    assert op.concat(None, 1.0) == "1.0"


def test_logic_absorbs_errors() -> None:
    e = ErrorValue("Q301", "x")
    assert op.combine_and(False, e) is False
    assert op.combine_and(e, False) is False
    assert op.combine_and(True, e) is e
    assert op.combine_or(e, True) is True
    assert op.combine_or(False, e) is e
    assert op.logical_not(None) is True
    assert _code(op.truth("yes")) == "Q301"


def test_ranges() -> None:
    assert op.make_range(3, 1) == [3, 2, 1]
    assert op.make_range("a", "c") == ["a", "b", "c"]
    assert op.make_range("2024-02-28", "2024-03-01") == [
        dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1)
    ]
    assert len(op.make_range(1, 30)) == 30
    assert _code(op.make_range(1, 31)) == "Q304"
    assert _code(op.make_range(1.5, 3)) == "Q301"
    assert _code(op.make_range("ab", "c")) == "Q301"
