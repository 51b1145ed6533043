"""Value semantics shared by every operator: kinds, numeric equality, ordering, text.

Values are plain Python: None, bool, int, Decimal, float, str, list/tuple (and any
`Sequence`), dict (and any `Mapping`), date, time, aware datetime, `Duration`, compiled
regex. `bool` is never a number. A float takes part in equality and ordering at its
shortest decimal form (`repr`), so a profile float 0.3 equals the literal 0.3.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from segmentql.runtime.errors import ErrorValue

#: The evaluation's time zone, for the rare mixed date/datetime comparisons inside helpers
#: that have no context argument. Set by `Query` around evaluations that use time.
CURRENT_ZONE: ContextVar[dt.tzinfo] = ContextVar("segmentql_zone", default=dt.UTC)

NUMBER_TYPES = (int, float, Decimal)


def is_number(value: object) -> bool:
    """int, Decimal or float, and never bool."""
    cls = value.__class__
    return cls is int or cls is Decimal or cls is float or (
        isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)
    )


def is_list(value: object) -> bool:
    return isinstance(value, list | tuple) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def is_map(value: object) -> bool:
    return isinstance(value, Mapping)


def to_decimal(value: int | float | Decimal) -> Decimal:
    """A number as an exact Decimal; a float at its shortest decimal form."""
    if value.__class__ is Decimal:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def kind_name(value: object) -> str:
    """The language's name for a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if is_map(value):
        return "map"
    if is_list(value):
        return "list"
    name = type(value).__name__
    return {"Duration": "duration", "ErrorValue": "error"}.get(name, name)


def a_kind(value: object) -> str:
    """`a string`, `an integer`: the kind with its article, for messages."""
    name = kind_name(value)
    return ("an " if name[0] in "aeiou" else "a ") + name


# ------------------------------------------------------------------------------------------
# Equality
# ------------------------------------------------------------------------------------------


def numbers_equal(a: Any, b: Any) -> bool:
    ca, cb = a.__class__, b.__class__
    if ca is cb:
        return bool(a == b)
    if ca is float or cb is float:
        if (ca is float and not math.isfinite(a)) or (cb is float and not math.isfinite(b)):
            return bool(a == b)
        return to_decimal(a) == to_decimal(b)
    return bool(a == b)


def values_equal(a: Any, b: Any) -> bool:
    """Structural equality of two non-error values (the `==` relation of the language)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if is_number(a):
        return is_number(b) and numbers_equal(a, b)
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return instants_equal(a, b)
    if is_map(a):
        if not is_map(b) or len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not values_equal(value, b[key]):
                return False
        return True
    if is_list(a):
        if not is_list(b) or is_map(b) or len(a) != len(b):
            return False
        return all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        return False
    measures = getattr(a, "measures", None)  # a Duration: `1 day == 24 hours`
    if measures is not None:
        return bool(measures() == b.measures())
    return bool(a == b)


def equality_key(value: Any) -> Any:
    """A hashable key such that equal keys mean `values_equal`, for scalars; None for values
    compared structurally (collections, dates), which callers compare one by one."""
    if value is None:
        return ("null",)
    if value is True or value is False:
        return ("bool", value)
    if isinstance(value, str):
        return ("str", value)
    if is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return ("num", to_decimal(value).normalize())
    return None


def structural_key(value: Any, depth: int = 0) -> Any:
    """`equality_key` extended to maps and lists of such values (maps by their exact keys,
    as `values_equal` compares them); None when some part has no key (dates, durations,
    NaN, other objects) or the value is nested deeper than 32 levels."""
    key = equality_key(value)
    if key is not None or depth > 32:
        return key
    if is_map(value):
        parts = []
        for k, v in value.items():
            inner = structural_key(v, depth + 1)
            if inner is None or not isinstance(k, str | int) or isinstance(k, bool):
                return None
            parts.append((k, inner))
        try:
            return ("map", frozenset(parts))
        except TypeError:
            return None
    if is_list(value):
        items = []
        for v in value:
            inner = structural_key(v, depth + 1)
            if inner is None:
                return None
            items.append(inner)
        return ("list", tuple(items))
    return None


def unique(items: Any) -> list[tuple[int, Any]]:
    """(position, item) of the first of each group of equal items, in order: linear for
    scalars and for maps and lists of scalars (hashed by `structural_key`), pairwise only
    among the rest (dates, durations, NaN)."""
    seen: set[Any] = set()
    others: list[Any] = []
    out: list[tuple[int, Any]] = []
    for position, item in enumerate(items):
        key = structural_key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        else:
            if any(values_equal(item, o) for o in others):
                continue
            others.append(item)
        out.append((position, item))
    return out


def instants_equal(a: dt.date, b: dt.date) -> bool:
    a_dt, b_dt = isinstance(a, dt.datetime), isinstance(b, dt.datetime)
    if a_dt == b_dt:
        return a == b
    return as_instant(a) == as_instant(b)


def as_instant(value: dt.date) -> dt.datetime:
    """A date or datetime as an aware datetime (a date is its start of day in the zone)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=CURRENT_ZONE.get())
        return value
    zone = CURRENT_ZONE.get()
    start = dt.datetime(value.year, value.month, value.day, tzinfo=zone)
    if zone is dt.UTC:
        return start
    # midnight may not exist (a DST gap): take the time just after it
    return start.astimezone(dt.UTC).astimezone(zone)


def equal(a: Any, b: Any) -> Any:
    """`a == b` with error propagation: True, False or the first error."""
    if a.__class__ is ErrorValue:
        return a
    if b.__class__ is ErrorValue:
        return b
    return values_equal(a, b)


# ------------------------------------------------------------------------------------------
# Ordering
# ------------------------------------------------------------------------------------------


class Incomparable(Exception):
    """Raised inside `compare` for values with no order between them."""


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 for ordered values; raises `Incomparable` otherwise (no nulls, no errors).

    Numbers by value, strings by code point, dates/datetimes as instants (an ISO string
    compared with a date is read as one), times, fixed-length durations.
    """
    if is_number(a) and is_number(b):
        mixed = a.__class__ is not b.__class__ and float in (a.__class__, b.__class__)
        if mixed and all(not isinstance(x, float) or math.isfinite(x) for x in (a, b)):
            a, b = to_decimal(a), to_decimal(b)
        return int((a > b) - (a < b))
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        from segmentql.runtime.temporal import coerce_temporal

        x, y = coerce_temporal(a, b)
        if x is None or y is None:
            raise Incomparable
        if isinstance(x, dt.datetime) != isinstance(y, dt.datetime):
            x, y = as_instant(x), as_instant(y)
        return (x > y) - (x < y)
    if isinstance(a, dt.time) and isinstance(b, dt.time):
        return (a > b) - (a < b)
    from segmentql.runtime.temporal import Duration

    if isinstance(a, Duration) and isinstance(b, Duration):
        differing = [(x, y) for x, y in zip(a.measures(), b.measures(), strict=True) if x != y]
        if not differing:
            return 0
        if len(differing) > 1:
            raise Incomparable
        ka, kb = differing[0]
        return (ka > kb) - (ka < kb)
    raise Incomparable


# ------------------------------------------------------------------------------------------
# Text
# ------------------------------------------------------------------------------------------


def to_text(value: Any) -> str:
    """`&` and `as string`: booleans `true`/`false`, null `""`, decimals keep their scale,
    floats as `repr`, dates/times ISO-8601, collections in JSON-like brackets."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if is_map(value):
        inner = ", ".join(f"{_quoted(k)}: {_quoted(v)}" for k, v in value.items())
        return "[" + inner + "]" if inner else "[:]"
    if is_list(value):
        return "[" + ", ".join(_quoted(v) for v in value) + "]"
    return str(value)


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "null"
    return to_text(value)


def parse_number(text: str) -> int | Decimal | float | None:
    """A number written as text (`"42"`, `"-1.50"`, `"1e3"`), or None if it is not one."""
    s = text.strip()
    if not s:
        return None
    try:
        if "e" in s or "E" in s:
            value = float(s)
            return value if math.isfinite(value) else None
        if "." in s:
            d = Decimal(s)
            return d if d.is_finite() else None
        return int(s, 10)
    except (ValueError, InvalidOperation):
        return None
