"""The natural-language tests (`is`, `starts with`, `contains`, `is between`, ...).

Each returns True, False or an error value. A null operand makes a test false (`null is
null` and `null is empty` are true); collection tests read null as an empty collection. The
negated form of a test is computed by the caller as exactly `not` of its positive form.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, cast

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.temporal import parse_time, to_instant
from segmentql.runtime.values import (
    Incomparable,
    a_kind,
    compare,
    equality_key,
    is_list,
    is_number,
    kind_name,
    parse_number,
    to_decimal,
    values_equal,
)


def _first_error(*values: Any) -> ErrorValue | None:
    for v in values:
        if v.__class__ is ErrorValue:
            return v
    return None


# ------------------------------------------------------------------------------------------
# Equality with modes
# ------------------------------------------------------------------------------------------


def equal_mode(a: Any, b: Any, mode: str | None) -> Any:
    """`a is equal to b [ignoring case|time|fraction | considering numbers]`."""
    err = _first_error(a, b)
    if err is not None:
        return err
    if mode is None:
        return values_equal(a, b)
    if a is None or b is None:
        return a is None and b is None
    if mode == "ignoring case":
        if isinstance(a, str) and isinstance(b, str):
            return a.casefold() == b.casefold()
        return _equal_deep(a, b, mode)
    if mode == "ignoring time":
        x, y = to_instant(a), to_instant(b)
        if x is not None and y is not None:
            from segmentql.runtime.values import CURRENT_ZONE

            zone = CURRENT_ZONE.get()
            return x.astimezone(zone).date() == y.astimezone(zone).date()
        return values_equal(a, b)
    if mode == "ignoring fraction":
        if is_number(a) and is_number(b):
            return _trunc(a) == _trunc(b)
        return values_equal(a, b)
    # considering numbers: numeric text compares as the number it spells
    p = parse_number(a) if isinstance(a, str) else a
    q = parse_number(b) if isinstance(b, str) else b
    if is_number(p) and is_number(q):
        return values_equal(p, q)
    return values_equal(a, b)


def _equal_deep(a: Any, b: Any, mode: str) -> bool:
    if is_list(a) and is_list(b) and not isinstance(a, Mapping) and len(a) == len(b):
        return all(equal_mode(x, y, mode) is True for x, y in zip(a, b, strict=True))
    return values_equal(a, b)


def _trunc(x: Any) -> int:
    if isinstance(x, float) and not math.isfinite(x):
        return 0
    return int(to_decimal(x))


# ------------------------------------------------------------------------------------------
# Ordering
# ------------------------------------------------------------------------------------------


def order(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    """-1/0/1, None when an operand is null, or an error value (Q307 incomparable)."""
    err = _first_error(a, b)
    if err is not None:
        return err
    if a is None or b is None:
        return None
    if _is_nan(a) or _is_nan(b):  # NaN is unordered: every ordering test is false
        return None
    try:
        return compare(a, b)
    except Incomparable:
        return ErrorValue(
            "Q307", f"cannot order {a_kind(a)} and {a_kind(b)}", span
        )


def _is_nan(value: Any) -> bool:
    cls = value.__class__
    if cls is float:
        return bool(value != value)
    return cls is Decimal and bool(value.is_nan())


def less(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    """`a < b`: false when an operand is null."""
    c = order(a, b, span)
    return False if c is None else c if c.__class__ is ErrorValue else c < 0


def less_equal(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    c = order(a, b, span)
    return False if c is None else c if c.__class__ is ErrorValue else c <= 0


def greater(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    c = order(a, b, span)
    return False if c is None else c if c.__class__ is ErrorValue else c > 0


def greater_equal(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    c = order(a, b, span)
    return False if c is None else c if c.__class__ is ErrorValue else c >= 0


def null_false(value: Any) -> Any:
    """Ordering results: null (an operand was null) reads as false."""
    return False if value is None else value


def between(a: Any, low: Any, high: Any, span: Span = NO_SPAN) -> Any:
    """Inclusive at both ends."""
    lo = greater_equal(a, low, span)
    if lo is False:
        return False
    hi = less_equal(a, high, span)
    if hi is False:
        return False
    return lo if lo is not True else hi


def before(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    return _instant_order(a, b, span, -1)


def after(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    return _instant_order(a, b, span, 1)


def _instant_order(a: Any, b: Any, span: Span, sign: int) -> Any:
    err = _first_error(a, b)
    if err is not None:
        return err
    if a is None or b is None:
        return False
    x, y = to_instant(a), to_instant(b)
    if x is None or y is None:
        bad = a if x is None else b
        return ErrorValue("Q310", f"not a date or date-time: {_short(bad)}", span)
    return x < y if sign < 0 else x > y


def at_time(a: Any, t: Any, span: Span = NO_SPAN) -> Any:
    """`V is at TIME`: V's local time of day equals TIME at TIME's precision."""
    err = _first_error(a, t)
    if err is not None:
        return err
    if a is None or t is None:
        return False
    parsed = parse_time(t)
    if parsed is None:
        return ErrorValue("Q310", f"not a time of day: {_short(t)}", span)
    wanted, precision = parsed
    if isinstance(a, dt.time):
        local = a
    else:
        instant = to_instant(a)
        if instant is None:
            return ErrorValue("Q310", f"not a date-time: {_short(a)}", span)
        from segmentql.runtime.values import CURRENT_ZONE

        local = instant.astimezone(CURRENT_ZONE.get()).time()
    got = (local.hour, local.minute, local.second, local.microsecond)[:precision]
    want = (wanted.hour, wanted.minute, wanted.second, wanted.microsecond)[:precision]
    return got == want


def _short(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else kind_name(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ------------------------------------------------------------------------------------------
# Strings
# ------------------------------------------------------------------------------------------


def _strings(a: Any, b: Any, name: str, span: Span) -> Any:
    err = _first_error(a, b)
    if err is not None:
        return err
    if a is None or b is None:
        return False
    if isinstance(a, str) and isinstance(b, str):
        return None
    return ErrorValue(
        "Q301", f"'{name}' needs two strings, got {kind_name(a)} and {kind_name(b)}", span
    )


def starts_with(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    r = _strings(a, b, "starts with", span)
    return a.startswith(b) if r is None else r


def ends_with(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    r = _strings(a, b, "ends with", span)
    return a.endswith(b) if r is None else r


@functools.cache
def _regex_class() -> type:
    from segmentql.runtime.helpers import Regex

    return Regex


def matches(a: Any, pattern: Any, span: Span = NO_SPAN) -> Any:
    """A string pattern is a case-sensitive substring test; a regex literal is an RE2
    search. Only the query's own regex literals match as patterns: a pattern object that
    arrives as data (a compiled `re.Pattern`, say) is data, never run."""
    if pattern.__class__ is _regex_class():
        err = _first_error(a)
        if err is not None:
            return err
        if a is None:
            return False
        if not isinstance(a, str):
            return ErrorValue("Q301", f"'matches' needs a string, got {a_kind(a)}", span)
        return cast(Any, pattern).found(a)
    r = _strings(a, pattern, "matches", span)
    return (pattern in a) if r is None else r


def like(a: Any, b: Any, span: Span = NO_SPAN) -> Any:
    """Case-insensitive substring test."""
    r = _strings(a, b, "like", span)
    return (b.casefold() in a.casefold()) if r is None else r


# ------------------------------------------------------------------------------------------
# Collections
# ------------------------------------------------------------------------------------------


def _elements(c: Any) -> Any:
    """The elements a collection test looks at (a map's values), or None if not one."""
    if c is None:
        return ()
    if isinstance(c, Mapping):
        return list(c.values())
    if is_list(c):
        return c
    return None


def _member(x: Any, elements: Any) -> bool:
    if x.__class__ is str:
        return any(e.__class__ is str and e == x for e in elements)
    return any(values_equal(x, e) for e in elements)


def contains(c: Any, x: Any, span: Span = NO_SPAN) -> Any:
    """`C contains X`: an element equal to X; on strings, a substring. A null X is false
    (spec §4: a test with a null operand), even when C holds a null, as `null is in C` is."""
    err = _first_error(c, x)
    if err is not None:
        return err
    if x is None:
        return False
    if isinstance(c, str):
        if isinstance(x, str):
            return x in c
        return ErrorValue(
            "Q301", f"a string contains strings, not {a_kind(x)}", span
        )
    elements = _elements(c)
    if elements is None:
        return ErrorValue("Q301", f"'contains' needs a collection, got {a_kind(c)}", span)
    return _member(x, elements)


def is_in(x: Any, c: Any, span: Span = NO_SPAN) -> Any:
    """`X is in C`: `C contains X` reversed."""
    return contains(c, x, span)


def _two_collections(c: Any, d: Any, span: Span) -> Any:
    err = _first_error(c, d)
    if err is not None:
        return err
    left = _elements(c)
    if left is None:
        return ErrorValue("Q301", f"expected a collection, got {a_kind(c)}", span)
    right = _elements(d)
    if right is None:
        right = [d]
    return left, right


class _Members:
    """Membership in a collection in (amortised) constant time for scalars, so that
    collection-vs-collection tests stay linear in the data."""

    __slots__ = ("keys", "others")

    def __init__(self, elements: Any) -> None:
        self.keys: set[Any] = set()
        self.others: list[Any] = []
        for e in elements:
            key = equality_key(e)
            if key is None:
                self.others.append(e)
            else:
                self.keys.add(key)

    def __contains__(self, x: Any) -> bool:
        if x is None:  # as `C contains null`: never contained
            return False
        key = equality_key(x)
        if key is not None:
            return key in self.keys
        return any(values_equal(x, o) for o in self.others)


def _shared(c: Any, d: Any, span: Span, quantifier: Callable[[Iterable[bool]], bool]) -> Any:
    """`quantifier` (all/any) over "this element of D is in C", or the first error."""
    r = _two_collections(c, d, span)
    if r.__class__ is ErrorValue:
        return r
    left, right = r
    members = _Members(left)
    return quantifier(x in members for x in right)


def contains_all(c: Any, d: Any, span: Span = NO_SPAN) -> Any:
    return _shared(c, d, span, all)


def contains_either(c: Any, d: Any, span: Span = NO_SPAN) -> Any:
    return _shared(c, d, span, any)


def contains_none(c: Any, d: Any, span: Span = NO_SPAN) -> Any:
    either = _shared(c, d, span, any)
    return either if either.__class__ is ErrorValue else not either


# ------------------------------------------------------------------------------------------
# Other tests
# ------------------------------------------------------------------------------------------


def is_empty(v: Any) -> Any:
    if v is None:
        return True
    if v.__class__ is ErrorValue:
        return v
    if isinstance(v, str):
        return v == ""
    if isinstance(v, Mapping) or is_list(v):
        return len(v) == 0
    return False


def is_defined(v: Any) -> bool:
    return v is not None and v.__class__ is not ErrorValue


def more_than_one(v: Any, span: Span = NO_SPAN) -> Any:
    """`user is returning`: stats' sessions > 1 (null is false)."""
    return null_false(greater(v, 1, span))


def at_most_one(v: Any, span: Span = NO_SPAN) -> Any:
    """`session is starting`: stats' pageviews <= 1 (null is false)."""
    return null_false(less_equal(v, 1, span))


def negate_test(value: Any) -> Any:
    """The negated form of a test: exactly `not` of its positive value."""
    if value is True:
        return False
    if value is False:
        return True
    return value


