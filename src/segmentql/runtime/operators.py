"""Operators: logic with error absorption, arithmetic, `&`, ranges, fallback, conditionals.

Every function takes evaluated operands (possibly error values) and returns a value or an
error value; none raises on data.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.temporal import Duration, difference, parse_date, shift, to_temporal
from segmentql.runtime.values import a_kind, is_number, kind_name, to_decimal, to_text

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_CTX = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN, Emax=999999, Emin=-999999)


def _mismatch(op: str, a: Any, b: Any, span: Span) -> ErrorValue:
    return ErrorValue(
        "Q301", f"'{op}' is not defined for {kind_name(a)} and {kind_name(b)}", span
    )


# ------------------------------------------------------------------------------------------
# Logic (null counts as false; anything else that is not a boolean is a type mismatch)
# ------------------------------------------------------------------------------------------


def truth(value: Any, span: Span = NO_SPAN) -> Any:
    """A logical operand as True/False, or an error value."""
    if value is True or value is False:
        return value
    if value is None:
        return False
    if value.__class__ is ErrorValue:
        return value
    return ErrorValue("Q301", f"expected a boolean, got {a_kind(value)}", span)


def logical_not(value: Any, span: Span = NO_SPAN) -> Any:
    if value is True:
        return False
    if value is False or value is None:
        return True
    return truth(value, span)


def combine_and(left: Any, right: Any) -> Any:
    """The `and` of two truths (already through `truth`), errors absorbed by false."""
    if left is False or right is False:
        return False
    if left is True:
        return right
    return left


def combine_or(left: Any, right: Any) -> Any:
    if left is True or right is True:
        return True
    if left is False:
        return right
    return left


# ------------------------------------------------------------------------------------------
# Arithmetic
# ------------------------------------------------------------------------------------------


def _check_int(value: int, span: Span) -> Any:
    if INT_MIN <= value <= INT_MAX:
        return value
    return ErrorValue("Q305", "integer result out of the 64-bit range", span)


def _unify(a: Any, b: Any) -> tuple[Any, Any]:
    """Both ints stay ints; a float makes both floats; otherwise both Decimals."""
    ca, cb = a.__class__, b.__class__
    if ca is int and cb is int:
        return a, b
    if ca is float or cb is float:
        return float(a), float(b)
    return to_decimal(a), to_decimal(b)


def _finish(value: Any, span: Span) -> Any:
    if value.__class__ is int:
        return _check_int(value, span)
    if value.__class__ is float and not math.isfinite(value):
        return ErrorValue("Q305", "number out of range", span)
    return value


_Binary = Callable[[Any, Any, Span], Any]


def _arithmetic(operation: _Binary) -> Callable[..., Any]:
    """The shared start of the binary operators (spec §4): the first error wins, then a
    null operand gives null; `operation` sees neither."""

    @functools.wraps(operation)
    def checked(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
        if a.__class__ is ErrorValue:
            return a
        if b.__class__ is ErrorValue:
            return b
        if a is None or b is None:
            return None
        return operation(a, b, span)

    return checked


def _exact(x: Any, y: Any, operation: Callable[[Any, Any], Any], span: Span) -> Any:
    """`operation` on two numbers of one kind (ints stay ints, decimals exact)."""
    if x.__class__ is int and y.__class__ is int:  # no decimal context needed
        return _check_int(operation(x, y), span)
    x, y = _unify(x, y)
    with decimal.localcontext(_CTX):
        return _finish(operation(x, y), span)


@_arithmetic
def add(a: Any, b: Any, span: Span) -> Any:
    if is_number(a) and is_number(b):
        return _exact(a, b, operator.add, span)
    return _temporal(a, b, 1, "+", span)


@_arithmetic
def subtract(a: Any, b: Any, span: Span) -> Any:
    if is_number(a) and is_number(b):
        return _exact(a, b, operator.sub, span)
    return _temporal(a, b, -1, "-", span)


def _temporal(a: Any, b: Any, sign: int, op: str, span: Span) -> Any:
    # A date or date-time held as ISO text (`session's start` read from JSON) is that
    # date or date-time in arithmetic: `"2024-01-01T10:00:00Z" + 1 hour`.
    if isinstance(a, str) and isinstance(b, Duration | dt.date):
        a = to_temporal(a) or a
    if isinstance(b, str) and isinstance(a, Duration | dt.date):
        b = to_temporal(b) or b
    if isinstance(a, Duration) and isinstance(b, Duration):
        return a + (b if sign > 0 else -b)
    if isinstance(a, dt.date) and isinstance(b, Duration):
        try:
            return shift(a, b if sign > 0 else -b)
        except (OverflowError, ValueError):
            return ErrorValue("Q305", "date out of range", span)
    if sign > 0 and isinstance(a, Duration) and isinstance(b, dt.date):
        return _temporal(b, a, 1, op, span)
    if sign < 0 and isinstance(a, dt.date) and isinstance(b, dt.date):
        return difference(a, b)
    return _mismatch(op, a, b, span)


@_arithmetic
def multiply(a: Any, b: Any, span: Span) -> Any:
    if is_number(a) and is_number(b):
        return _exact(a, b, operator.mul, span)
    return _mismatch("*", a, b, span)


@_arithmetic
def divide(a: Any, b: Any, span: Span) -> Any:
    """Exact where possible: `7 / 2` is the decimal 3.5, `4 / 2` the integer 2."""
    if not (is_number(a) and is_number(b)):
        return _mismatch("/", a, b, span)
    if b == 0:
        return ErrorValue("Q302", "division by zero", span)
    x, y = _unify(a, b)
    if x.__class__ is int:
        if x % y == 0:
            return x // y
        x, y = Decimal(x), Decimal(y)
    with decimal.localcontext(_CTX):
        return _finish(x / y, span)


@_arithmetic
def modulo(a: Any, b: Any, span: Span) -> Any:
    """Remainder with the sign of the dividend (`-7 mod 3` is -1)."""
    if not (is_number(a) and is_number(b)):
        return _mismatch("mod", a, b, span)
    if b == 0:
        return ErrorValue("Q302", "division by zero", span)
    x, y = _unify(a, b)
    if x.__class__ is int:
        r = abs(x) % abs(y)
        return -r if x < 0 else r
    if x.__class__ is float:
        return math.fmod(x, y)
    with decimal.localcontext(_CTX):
        return x % y


@_arithmetic
def power(a: Any, b: Any, span: Span) -> Any:
    if not (is_number(a) and is_number(b)):
        return _mismatch("**", a, b, span)
    x, y = _unify(a, b)
    try:
        if x.__class__ is int:
            if y >= 0:
                if abs(x) > 1 and y * math.log2(abs(x)) > 64:
                    return ErrorValue("Q305", "integer result out of the 64-bit range", span)
                return _check_int(x**y, span)
            if x == 0:
                return ErrorValue("Q302", "division by zero", span)
            x, y = Decimal(x), Decimal(y)
        if x.__class__ is float:
            result = x**y
            if result.__class__ is not float:  # a negative base to a fractional power
                return ErrorValue("Q305", "power of a negative number is not a real number",
                                  span)
            return _finish(result, span)
        with decimal.localcontext(_CTX) as ctx:
            ctx.traps[decimal.Inexact] = False
            result = x**y
            if result.is_nan():
                return ErrorValue("Q305", "power of a negative number is not a real number",
                                  span)
            return result if result.is_finite() else ErrorValue("Q305", "out of range", span)
    except (ArithmeticError, ValueError):
        return ErrorValue("Q305", "power out of range or undefined", span)


def negate(a: Any, span: Span = NO_SPAN) -> Any:
    if a is None or a.__class__ is ErrorValue:
        return a
    if is_number(a):
        return _finish(-a, span)
    if isinstance(a, Duration):
        return -a
    return ErrorValue("Q301", f"cannot negate {a_kind(a)}", span)


def positive(a: Any, span: Span = NO_SPAN) -> Any:
    """Unary `+`: numbers stay, numeric text converts (reference §6.3)."""
    if a is None or a.__class__ is ErrorValue or is_number(a) or isinstance(a, Duration):
        return a
    if isinstance(a, str):
        from segmentql.runtime.values import parse_number

        n = parse_number(a)
        if n is not None:
            return n
        return ErrorValue("Q303", f"cannot convert {a!r} to a number", span)
    return ErrorValue("Q301", f"'+' is not defined for {a_kind(a)}", span)


def percent(a: Any, span: Span = NO_SPAN) -> Any:
    """`20%` is the decimal 0.20."""
    if a is None or a.__class__ is ErrorValue:
        return a
    if is_number(a):
        if a.__class__ is float:
            return a / 100
        with decimal.localcontext(_CTX):
            return to_decimal(a) / 100
    return ErrorValue("Q301", f"'%' is not defined for {a_kind(a)}", span)


# ------------------------------------------------------------------------------------------
# Text, ranges, fallback
# ------------------------------------------------------------------------------------------


def concat(a: Any, b: Any) -> Any:
    if a.__class__ is ErrorValue:
        return a
    if b.__class__ is ErrorValue:
        return b
    return to_text(a) + to_text(b)


MAX_RANGE = 30


def make_range(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    """`a .. b`: inclusive, ascending or descending, at most 30 items; integers, single
    characters (code point order) and ISO dates."""
    if a.__class__ is ErrorValue:
        return a
    if b.__class__ is ErrorValue:
        return b
    if a is None or b is None:
        return None
    if a.__class__ is int and b.__class__ is int:
        return _bounded(list(_steps(a, b)), span)
    if isinstance(a, str) and isinstance(b, str) and len(a) == 1 and len(b) == 1:
        return _bounded([chr(c) for c in _steps(ord(a), ord(b))], span)
    da = a if isinstance(a, dt.date) and not isinstance(a, dt.datetime) else None
    db = b if isinstance(b, dt.date) and not isinstance(b, dt.datetime) else None
    da = da or (parse_date(a) if isinstance(a, str) else None)
    db = db or (parse_date(b) if isinstance(b, str) else None)
    if da is not None and db is not None:
        count = abs((db - da).days) + 1
        if count > MAX_RANGE:
            return _too_long(count, span)
        step = 1 if db >= da else -1
        return [da + dt.timedelta(days=i * step) for i in range(count)]
    return ErrorValue(
        "Q301",
        f"a range needs integers, single characters or dates, not {kind_name(a)} and "
        f"{kind_name(b)}",
        span,
    )


def _steps(a: int, b: int) -> range:
    if abs(b - a) + 1 > MAX_RANGE:
        return range(0)
    return range(a, b + 1) if b >= a else range(a, b - 1, -1)


def _bounded(items: list[Any], span: Span) -> Any:
    if not items:
        return _too_long(None, span)
    return items


def _too_long(count: int | None, span: Span) -> ErrorValue:
    detail = f" ({count} items)" if count else ""
    return ErrorValue("Q304", f"range longer than {MAX_RANGE} items{detail}", span)
