"""JSON values as the state stores them: checking, deep equality, freezing and thawing.

Stored values are JSON values frozen into pyrsistent structures (`PMap`, `PVector`); snapshots
thaw them back into fresh plain `dict`/`list` objects, the evaluator's fast path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from pyrsistent import PMap, PVector, pmap, pvector

#: A plain JSON value (what events carry and snapshots return).
JsonValue = Any


class _Missing:
    """The absence of a value (distinct from null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


def json_problem(value: object, where: str = "value") -> str | None:
    """Why `value` is not a JSON value we can store, or None if it is."""
    if type(value) is dict:
        # The common case first: a map of strings, integers, booleans and nulls.
        for key, item in value.items():
            if type(key) is not str or type(item) not in _PLAIN_SCALARS:
                break
        else:
            return None
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where} is {value!r}, not a finite number"
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has a non-string key {key!r}"
            problem = json_problem(item, f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for index, item in enumerate(value):
            problem = json_problem(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    return f"{where} has a {type(value).__name__}, which is not a JSON value"


#: Scalar types `json_problem` accepts without further checks (floats need one: finite),
#: and `freeze` and `thaw` return as they are.
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def is_number(value: object) -> bool:
    """An int or float that is not a bool (bool is never a number)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(a: object, b: object) -> bool:
    """Deep equality of JSON values where booleans never equal numbers (1 != true)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        return all(key in b and json_equal(item, b[key]) for key, item in a.items())
    if isinstance(a, Sequence) and isinstance(b, Sequence):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return False


def add_numbers(a: int | float, b: int | float) -> int | float:
    """`a + b`; with a float involved, computed on the shortest decimal forms so that
    0.1 + 0.2 stores 0.3 (stable under repeated increments)."""
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return float(Decimal(repr(float(a))) + Decimal(repr(float(b))))


def freeze(value: JsonValue) -> Any:
    """A plain JSON value as nested pyrsistent structures."""
    if type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, (PMap, PVector)):
        return value
    if isinstance(value, Mapping):
        return pmap({key: freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return pvector([freeze(item) for item in value])
    return value


def thaw(value: Any) -> JsonValue:
    """A frozen value as fresh plain `dict`/`list` objects (never shared with the state)."""
    if type(value) in _PLAIN_SCALARS:
        return value
    if isinstance(value, PMap):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, PVector):
        return [thaw(item) for item in value]
    return value


def copy_json(value: JsonValue) -> JsonValue:
    """A deep copy of a plain JSON value (much faster than `copy.deepcopy`)."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list:
        return [copy_json(item) for item in value]
    return value


def is_flat(mapping: dict[str, Any]) -> bool:
    """No value of `mapping` is a dict or a list."""
    return not any(type(value) in (dict, list) for value in mapping.values())


def copy_flat(value: JsonValue) -> tuple[JsonValue, bool]:
    """`copy_json(value)` and whether the copy `is_flat`, in one pass when `value` is a map
    without maps or lists (a shallow copy is then the deep copy)."""
    if type(value) is dict:
        for item in value.values():
            kind = type(item)
            if kind is dict or kind is list:
                return {key: copy_json(child) for key, child in value.items()}, False
        return dict(value), True
    return value, is_flat(value)


def find_key(mapping: Mapping[str, Any], name: str) -> str | None:
    """The key of `mapping` that `name` names: exact first, else case-insensitively."""
    if name in mapping:
        return name
    folded = name.casefold()
    for key in mapping:
        if key.casefold() == folded:
            return key
    return None
