"""Modifiers and macros: `as TYPE`, `at TIME`, case styles, rounding, dedupe, sort,
`count of`/`sum of`/..., `number of UNIT between`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.temporal import (
    Duration,
    normalize_local,
    parse_date,
    parse_datetime,
    parse_time,
    to_temporal,
    units_between,
)
from segmentql.runtime.values import (
    CURRENT_ZONE,
    Incomparable,
    a_kind,
    as_instant,
    compare,
    is_list,
    is_number,
    kind_name,
    parse_number,
    to_decimal,
    to_text,
    unique,
)


def _cannot(value: Any, target: str, span: Span) -> ErrorValue:
    shown = repr(value) if isinstance(value, str) and len(value) <= 40 else kind_name(value)
    return ErrorValue("Q303", f"cannot convert {shown} to {target}", span)


# ------------------------------------------------------------------------------------------
# Casts (reference §12)
# ------------------------------------------------------------------------------------------


def cast(value: Any, target: str, span: Span = NO_SPAN) -> Any:
    """`value as TARGET`; conversions not listed are errors."""
    if value.__class__ is ErrorValue:
        return value
    if target == "boolean":
        return _to_boolean(value, span)
    if target == "string":
        return value.isoformat() if isinstance(value, Duration) else to_text(value)
    if value is None:
        return [] if target == "collection" else None
    if target in ("number", "integer", "decimal", "float"):
        return _to_number(value, target, span)
    if target == "collection":
        if isinstance(value, Mapping) or is_list(value):
            return value
        return _cannot(value, "a collection", span)
    if target == "date":
        if isinstance(value, dt.datetime):
            return as_instant(value).astimezone(CURRENT_ZONE.get()).date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            t = to_temporal(value)
            if isinstance(t, dt.datetime):
                return t.astimezone(CURRENT_ZONE.get()).date()
            if t is not None:
                return t
        return _cannot(value, "a date", span)
    if target == "datetime":
        if isinstance(value, dt.date):
            return as_instant(value)
        if isinstance(value, str):
            t = parse_datetime(value) or parse_date(value)
            if t is not None:
                return as_instant(t)
        return _cannot(value, "a datetime", span)
    # time
    if isinstance(value, dt.datetime):
        return as_instant(value).astimezone(CURRENT_ZONE.get()).time()
    parsed = parse_time(value)
    if parsed is not None:
        return parsed[0]
    if isinstance(value, str):
        t = parse_datetime(value)
        if t is not None:
            return t.astimezone(CURRENT_ZONE.get()).time()
    return _cannot(value, "a time", span)


def _to_boolean(value: Any, span: Span) -> Any:
    if value is None:
        return False
    if value is True or value is False:
        return value
    if is_number(value):
        if value == 0:
            return False
        if value == 1:
            return True
        return _cannot(value, "a boolean", span)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "false", "0"):
            return False
        if text in ("true", "1"):
            return True
    return _cannot(value, "a boolean", span)


def _to_number(value: Any, target: str, span: Span) -> Any:
    number: Any = value
    if isinstance(value, str):
        number = parse_number(value)
        if number is None:
            return _cannot(value, f"a{'n' if target == 'integer' else ''} {target}", span)
    elif not is_number(value):
        return _cannot(value, f"a{'n' if target == 'integer' else ''} {target}", span)
    if target == "number":
        return number
    if target == "float":
        try:
            as_float = float(number)
        except OverflowError:
            as_float = math.inf
        if not math.isfinite(as_float) and not (isinstance(number, float)):
            return ErrorValue("Q305", f"{value!r} is out of the float range", span)
        return as_float
    if target == "decimal":
        return to_decimal(number)
    exact = to_decimal(number)
    if not exact.is_finite():
        return _cannot(value, "an integer (it is not finite)", span)
    if exact != exact.to_integral_value():
        return _cannot(value, "an integer (it has a fraction)", span)
    if not INT_MIN <= exact <= INT_MAX:
        return ErrorValue("Q305", f"{value!r} is out of the 64-bit integer range", span)
    return int(exact)


def at_time(value: Any, time: Any, span: Span = NO_SPAN) -> Any:
    """`V at TIME`: the date (or a date-time's local date) at that local time, as an instant."""
    for v in (value, time):
        if v.__class__ is ErrorValue:
            return v
    if value is None or time is None:
        return None
    parsed = parse_time(time)
    if parsed is None:
        return ErrorValue("Q310", "not a time of day", span)
    day = to_temporal(value)
    if day is None:
        return _cannot(value, "a date", span)
    zone = CURRENT_ZONE.get()
    if isinstance(day, dt.datetime):
        day = as_instant(day).astimezone(zone).date()
    t = parsed[0]
    return normalize_local(dt.datetime.combine(day, t, tzinfo=zone))


# ------------------------------------------------------------------------------------------
# Case, rounding
# ------------------------------------------------------------------------------------------

_WORD = re.compile(r"\S+")


def change_case(value: Any, style: str, span: Span = NO_SPAN) -> Any:
    if value is None or value.__class__ is ErrorValue:
        return value
    if not isinstance(value, str):
        return ErrorValue("Q301", f"cannot change the case of {a_kind(value)}", span)
    if style == "lower":
        return value.lower()
    if style == "upper":
        return value.upper()
    if style == "title":
        return _WORD.sub(lambda m: _capitalize(m.group(0)), value)
    return _capitalize(value)


def _capitalize(text: str) -> str:
    stripped = text.lstrip()
    lead = text[: len(text) - len(stripped)]
    return lead + stripped[:1].upper() + stripped[1:].lower()


_MODES = {
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "half up": decimal.ROUND_HALF_UP,
    "half down": decimal.ROUND_HALF_DOWN,
    "half even": decimal.ROUND_HALF_EVEN,
}


def round_value(value: Any, mode: str, scale: Any = 0, span: Span = NO_SPAN) -> Any:
    """`V rounded [MODE] [with scale of N]`; the result has the input's type."""
    for v in (value, scale):
        if v.__class__ is ErrorValue:
            return v
    if value is None:
        return None
    if scale is None:
        scale = 0
    if not is_number(value):
        return ErrorValue("Q301", f"cannot round {a_kind(value)}", span)
    if not isinstance(scale, int) or isinstance(scale, bool) or not -30 <= scale <= 30:
        return ErrorValue("Q305", "the scale must be an integer between -30 and 30", span)
    exact = to_decimal(value)
    quantum = Decimal(1).scaleb(-scale)
    try:
        with decimal.localcontext() as ctx:
            ctx.prec = 60
            rounded = _round_decimal(exact, quantum, mode)
    except decimal.InvalidOperation:
        return ErrorValue("Q305", "number out of range for rounding", span)
    if isinstance(value, int):
        return int(rounded)
    if isinstance(value, float):
        return float(rounded)
    return rounded


def _round_decimal(exact: Decimal, quantum: Decimal, mode: str) -> Decimal:
    if mode != "half odd":
        if quantum > 1:  # negative scale: round to tens, hundreds...
            return (exact / quantum).quantize(Decimal(1), rounding=_MODES[mode]) * quantum
        return exact.quantize(quantum, rounding=_MODES[mode])
    down = (exact / quantum).to_integral_value(rounding=decimal.ROUND_DOWN)
    rest = abs(exact / quantum - down)
    step = 1 if exact >= 0 else -1
    if rest > Decimal("0.5") or (rest == Decimal("0.5") and down % 2 == 0):
        down += step
    result = down * quantum
    return result if quantum > 1 else result.quantize(quantum)


# ------------------------------------------------------------------------------------------
# Collections
# ------------------------------------------------------------------------------------------


def _collection(value: Any, what: str, span: Span) -> Any:
    if value is None:
        return []
    if value.__class__ is ErrorValue:
        return value
    if isinstance(value, Mapping):
        return list(value.values())
    if is_list(value):
        return value
    return ErrorValue("Q301", f"'{what}' needs a collection, got {a_kind(value)}", span)


def without_duplicates(value: Any, span: Span = NO_SPAN) -> Any:
    if value is None or value.__class__ is ErrorValue:
        return value
    if isinstance(value, Mapping):
        keys = list(value.keys())
        return {keys[i]: v for i, v in unique(value.values())}
    if not is_list(value):
        return ErrorValue("Q301", f"cannot remove duplicates from {a_kind(value)}", span)
    return [item for _, item in unique(value)]


INT_MIN, INT_MAX = -(2**63), 2**63 - 1

_CHUNKS = re.compile(r"(\d+)")


def _natural_key(text: str) -> list[Any]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p.casefold()) for p in _CHUNKS.split(text) if p]


def sort_values(value: Any, direction: str, order: str, span: Span = NO_SPAN) -> Any:
    """`C sorted [ascending|descending] [alphabetical|alphanumerical|numerical]`."""
    if value is None or value.__class__ is ErrorValue:
        return value
    is_map = isinstance(value, Mapping)
    if not is_map and not is_list(value):
        return ErrorValue("Q301", f"cannot sort {a_kind(value)}", span)
    pairs = list(value.items()) if is_map else list(enumerate(value))
    reverse = direction == "descending"
    try:
        if order == "alphabetical":
            pairs.sort(key=lambda p: to_text(p[1]).casefold(), reverse=reverse)
        elif order == "alphanumerical":
            pairs.sort(key=lambda p: _natural_key(to_text(p[1])), reverse=reverse)
        elif order == "numerical":
            keys = []
            for p in pairs:
                n = p[1] if is_number(p[1]) else (
                    parse_number(p[1]) if isinstance(p[1], str) else None
                )
                if n is None:
                    return ErrorValue("Q307", f"cannot sort {kind_name(p[1])} numerically", span)
                keys.append((to_decimal(n), p))
            keys.sort(key=lambda k: k[0], reverse=reverse)
            pairs = [p for _, p in keys]
        else:
            from functools import cmp_to_key

            def by_value(x: tuple[Any, Any], y: tuple[Any, Any]) -> int:
                return compare(x[1], y[1])

            pairs.sort(key=cmp_to_key(by_value), reverse=reverse)
    except Incomparable:
        return ErrorValue("Q307", "the collection holds values with no order between them", span)
    if is_map:
        return dict(pairs)
    return [v for _, v in pairs]


def count_of(value: Any, span: Span = NO_SPAN) -> Any:
    if value is None:
        return 0
    if value.__class__ is ErrorValue:
        return value
    if isinstance(value, Mapping) or is_list(value) or isinstance(value, str):
        return len(value)
    return ErrorValue("Q301", f"'count of' needs a collection, got {a_kind(value)}", span)


def sum_of(value: Any, span: Span = NO_SPAN) -> Any:
    items = _collection(value, "sum of", span)
    if items.__class__ is ErrorValue:
        return items
    from segmentql.runtime.operators import add

    total: Any = 0
    for item in items:
        if item is None:
            continue
        if not is_number(item):
            return ErrorValue("Q301", f"'sum of' needs numbers, found {a_kind(item)}", span)
        total = add(total, item, span)
    return total


def extreme_of(value: Any, largest: bool, span: Span = NO_SPAN) -> Any:
    what = "maximum of" if largest else "minimum of"
    items = _collection(value, what, span)
    if items.__class__ is ErrorValue:
        return items
    items = [i for i in items if i is not None]
    if not items:
        return ErrorValue("Q306", f"'{what}' an empty collection", span)
    best = items[0]
    try:
        for item in items[1:]:
            c = compare(item, best)
            if (c > 0) if largest else (c < 0):
                best = item
    except Incomparable:
        return ErrorValue("Q307", f"'{what}' values with no order between them", span)
    return best


def average_of(value: Any, span: Span = NO_SPAN) -> Any:
    items = _collection(value, "average of", span)
    if items.__class__ is ErrorValue:
        return items
    numbers = [i for i in items if i is not None]
    if not numbers:
        return ErrorValue("Q306", "'average of' an empty collection", span)
    total = sum_of(numbers, span)
    if total.__class__ is ErrorValue:
        return total
    from segmentql.runtime.operators import divide

    return divide(total, len(numbers), span)


def first_of(value: Any, last: bool = False, span: Span = NO_SPAN) -> Any:
    items = _collection(value, "last of" if last else "first of", span)
    if items.__class__ is ErrorValue:
        return items
    if not items:
        return None
    return items[-1] if last else items[0]


def keys_of(value: Any, span: Span = NO_SPAN) -> Any:
    """A map's keys; a list's positions (0, 1, ...)."""
    if isinstance(value, Mapping):
        return list(value.keys())
    items = _collection(value, "keys of", span)
    return items if items.__class__ is ErrorValue else list(range(len(items)))


def values_of(value: Any, span: Span = NO_SPAN) -> Any:
    items = _collection(value, "values of", span)
    return items if items.__class__ is ErrorValue else list(items)


def number_between(unit: str, start: Any, end: Any, span: Span = NO_SPAN) -> Any:
    for v in (start, end):
        if v.__class__ is ErrorValue:
            return v
    if start is None or end is None:
        return None
    a, b = to_temporal(start), to_temporal(end)
    if a is None or b is None:
        bad = start if a is None else end
        return ErrorValue("Q310", f"not a date or date-time: {kind_name(bad)}", span)
    try:
        return units_between(unit, a, b)
    except (OverflowError, ValueError):
        return ErrorValue("Q305", "dates out of range", span)
