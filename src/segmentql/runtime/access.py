"""Reading variables and attributes (spec §3 resolution order), null-safe.

`V's name` on a context variable reads `V.custom.name` if present, else the key `name` of
`V`, else a virtual attribute (`age` from `birthDate`, `name` from first and last name,
`page`'s `query` from its `url`), else null. Names match case-insensitively, so the name's
case never changes the result: `custom` is searched (exact case, then ignoring case) before
`V`'s own keys (exact case, then ignoring case); within one mapping an exact-case key wins
over one that differs in case (the generated code tries the exact key inline, these helpers
do the rest). Reading through null gives null; a date, datetime, time
or ISO string of one has its parts (`year`, `weekday`, `hour`, ...); reading any other
attribute of a number, string or list is a type-mismatch error value.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime.errors import MISSING, ErrorValue
from segmentql.runtime.prepared import FOLDED, lazy_variable
from segmentql.runtime.temporal import part_kind, temporal_part
from segmentql.runtime.values import CURRENT_ZONE, a_kind

#: The evaluation's `now` for virtual attributes such as `age` (None: the real clock).
CURRENT_NOW: ContextVar[dt.datetime | None] = ContextVar("segmentql_now", default=None)

_FOLDS: dict[tuple[Any, ...], dict[str, Any]] = {}
_FOLDS_LIMIT = 4096


def fold_get(mapping: Mapping[Any, Any], lowered: str) -> Any:
    """The value whose key equals `lowered` ignoring case, or MISSING.

    The lower-cased key table of each distinct key set is cached, so a miss on a profile
    shape seen before costs one tuple build and one lookup instead of a scan.
    """
    try:
        keys = tuple(mapping)
        table = _FOLDS.get(keys)
    except TypeError:  # unhashable keys in a generic mapping
        keys, table = (), None
    if table is None:
        table = {}
        for key in mapping:
            if isinstance(key, str):
                table.setdefault(key.lower(), key)
        if keys:
            if len(_FOLDS) >= _FOLDS_LIMIT:
                _FOLDS.clear()
            _FOLDS[keys] = table
    key = table.get(lowered, MISSING)
    if key is MISSING:
        return MISSING
    return mapping[key]


def fold_miss(mapping: dict[Any, Any], lowered: str, name: str | None = None) -> Any:
    """After `mapping.get(name)` gave None: the value of a key equal to `lowered` ignoring
    case, else None (the lean path generated code calls). An exact key `name` holding
    None is a hit: null, whatever other spellings hold."""
    if name is not None and name in mapping:
        return None
    if FOLDED in mapping:  # a Prepared view: complete in lower case
        return mapping.get(lowered)
    try:
        table = _FOLDS[tuple(mapping)]
    except KeyError:
        value = fold_get(mapping, lowered)
        return None if value is MISSING else value
    except TypeError:
        return None
    key = table.get(lowered, MISSING)
    return None if key is MISSING else mapping[key]


@lru_cache(maxsize=4096)
def case_variants(lowered: str) -> frozenset[str] | None:
    """Every spelling of `lowered` that differs only in case, for names with at most eight
    letters (None for longer names). `variants.isdisjoint(d)` then tells in one C-level pass
    over `d`'s keys that no key matches ignoring case, the common outcome of a miss."""
    letters = [c for c in lowered if c.lower() != c.upper()]
    if len(letters) > 8 or any(len(c.upper()) != 1 for c in letters):
        return None
    options = [(c, c.upper()) if c.lower() != c.upper() else (c,) for c in lowered]
    return frozenset("".join(p) for p in itertools.product(*options))


VIRTUAL = frozenset({("user", "age"), ("user", "name"), ("page", "query")})


def read_variable(variables: Any, name: str, lowered: str) -> Any:
    """A context variable from the caller's mapping, or None."""
    if not isinstance(variables, Mapping):
        return None
    value = variables.get(name, MISSING)
    if value is MISSING:
        value = fold_get(variables, lowered)
        if value is MISSING:
            value = lazy_variable(variables, name)  # `prepare`'s form of a snapshot
            if value is MISSING:
                return None
    return value


def custom_of(target: Any) -> Any:
    """`target.custom` when it is a mapping, else None. The key is exactly `custom` (the
    store always writes it so); a `Custom` key is an ordinary attribute."""
    if isinstance(target, Mapping):
        custom = target.get("custom")
        if isinstance(custom, Mapping):
            return custom
    return None


def read_variable_attribute(
    target: Any, custom: Any, name: str, lowered: str, variable: str, span: Span = NO_SPAN
) -> Any:
    """`V's name` on a context variable after the inline exact-case probe missed."""
    if target is None:
        return None
    if target.__class__ is ErrorValue:
        return target
    if not isinstance(target, Mapping):
        return _part_or_mismatch(target, name, span)
    if custom is not None:
        # a custom attribute shadows the standard one whatever the case of either name:
        # exact case first, then ignoring case, both before the variable's own keys
        value = custom.get(name)
        if value is not None:
            return value
        value = fold_get(custom, lowered)
        if value is not MISSING and value is not None:
            return value
    value = target.get(name, MISSING)
    if value is not MISSING:
        return value
    value = fold_get(target, lowered)
    if value is not MISSING:
        return value
    return virtual_attribute(target, lowered, variable, custom)


def read_attribute(target: Any, name: str, lowered: str, span: Span = NO_SPAN) -> Any:
    """`target's name` on any value (nested reads): exact key, then ignoring case."""
    if target is None:
        return None
    cls = target.__class__
    if cls is dict:
        value = target.get(name, MISSING)
        if value is not MISSING:
            return value
        value = fold_get(target, lowered)
        return None if value is MISSING else value
    if cls is ErrorValue:
        return target
    if isinstance(target, Mapping):
        value = target.get(name, MISSING)
        if value is MISSING:
            value = fold_get(target, lowered)
        return None if value is MISSING else value
    return _part_or_mismatch(target, name, span)


def _part_or_mismatch(target: Any, name: str, span: Span) -> Any:
    """A date, datetime or time part (`today's year`), else a type-mismatch error."""
    temporal = part_kind(target)
    if temporal is None:
        return ErrorValue("Q301", f"cannot read attribute '{name}' of {a_kind(target)}", span)
    part = temporal_part(temporal, name.lower())
    if part is None:
        return ErrorValue("Q301", f"{a_kind(temporal)} has no part '{name}'", span)
    return part


def virtual_attribute(
    target: Mapping[Any, Any], lowered: str, variable: str, custom: Any = None
) -> Any:
    """Derived attributes: user's `age` and `name`, page's `query`, from the attributes as a
    query reads them (a custom `birthDate` shadows the standard one here too)."""

    def read(name: str, folded: str) -> Any:
        if custom is not None:
            value = custom.get(name)
            if value is None:
                value = fold_get(custom, folded)
            if value is not MISSING and value is not None:
                return value
        return read_attribute(target, name, folded)

    if variable == "user":
        if lowered == "age":
            return _age(read("birthDate", "birthdate"))
        if lowered == "name":
            first = read("firstName", "firstname")
            last = read("lastName", "lastname")
            parts = [p for p in (first, last) if isinstance(p, str) and p]
            return " ".join(parts) if parts else None
    if variable == "page" and lowered == "query":
        url = read("url", "url")
        if isinstance(url, str):
            return query_map(url)
    return None


def _age(birth: Any) -> int | None:
    if isinstance(birth, dt.datetime):
        birth = birth.date()
    if isinstance(birth, str):
        try:
            birth = dt.date.fromisoformat(birth.strip()[:10])
        except ValueError:
            return None
    if not isinstance(birth, dt.date):
        return None
    now = CURRENT_NOW.get() or dt.datetime.now(dt.UTC)
    today = now.astimezone(CURRENT_ZONE.get()).date()
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return years if years >= 0 else None


def query_map(url: str) -> dict[str, Any]:
    """A URL's query as a map; repeated `x[]=` keys become lists."""
    result: dict[str, Any] = {}
    try:
        pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return result
    for key, value in pairs:
        if key.endswith("[]"):
            result.setdefault(key[:-2], []).append(value)
        elif key in result:
            previous = result[key]
            result[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[key] = value
    return result


def read_index(target: Any, index: Any, span: Span = NO_SPAN) -> Any:
    """`target[index]`: a key of a map, a position in a list or string (negative from the
    end); out of range or absent gives null."""
    if target is None or index is None:
        return None
    if target.__class__ is ErrorValue:
        return target
    if index.__class__ is ErrorValue:
        return index
    if isinstance(target, Mapping):
        if isinstance(index, str):
            return read_attribute(target, index, index.lower(), span)
        value = target.get(index, MISSING)
        return None if value is MISSING else value
    if isinstance(target, str | Sequence) and not isinstance(target, bytes):
        if isinstance(index, int) and not isinstance(index, bool):
            try:
                return target[index]
            except IndexError:
                return None
        return ErrorValue(
            "Q311", f"{a_kind(target)} is indexed by an integer, not {a_kind(index)}",
            span,
        )
    return ErrorValue("Q301", f"cannot index {a_kind(target)}", span)


def items_of(collection: Any) -> Any:
    """What quantifiers and collection macros iterate over `cart`: its `items`."""
    if isinstance(collection, Mapping):
        items = collection.get("items", MISSING)
        if items is MISSING:
            items = fold_get(collection, "items")
        return None if items is MISSING else items
    return collection
