"""Patch operations on plain JSON values (cql-reference.md §14 plus spec §5 decisions).

Each operation works on one top-level attribute held in a one-key plain `dict`, so the same
code serves user attributes, custom attributes and session attributes. Failures raise
`OperationFailed` with the reason; the caller turns it into a `PatchError` naming the operation.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

from segmentql.state.values import (
    MISSING,
    JsonValue,
    add_numbers,
    find_key,
    is_number,
    json_equal,
    json_problem,
)

Segment = str | int

_PATH = re.compile(r"(?P<name>[^.\[\]\s][^.\[\]]*)|\[(?P<index>\d+)\]")


class OperationFailed(Exception):
    """An operation cannot apply; `str(exc)` is the reason."""


@functools.lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[Segment, ...]:
    """`a.b[0].c` as ("a", "b", 0, "c"); `OperationFailed` for a malformed path."""
    if not isinstance(path, str) or not path.strip():
        raise OperationFailed("the path is empty")
    segments: list[Segment] = []
    position = 0
    expect_name = True
    while position < len(path):
        if not expect_name and path[position] == ".":
            position += 1
            expect_name = True
            continue
        match = _PATH.match(path, position)
        if match is None or (match.group("name") is not None and not expect_name):
            raise OperationFailed(f"malformed path at character {position + 1}")
        if match.group("index") is not None:
            if not segments:
                raise OperationFailed("a path starts with an attribute name, not an index")
            segments.append(int(match.group("index")))
        else:
            segments.append(match.group("name").strip())
        position = match.end()
        expect_name = False
    if expect_name:
        raise OperationFailed("the path ends with '.'")
    return tuple(segments)


def format_path(segments: tuple[Segment, ...]) -> str:
    """The dotted form of `segments`."""
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += ("." if text else "") + segment
    return text


# --- the operations: (current value or MISSING, argument) -> new value or MISSING (delete) ---


def _as_list(current: Any, op: str) -> list[Any]:
    if current is MISSING or current is None:
        return []
    if isinstance(current, list):
        return list(current)
    if isinstance(current, dict):
        raise OperationFailed(f"cannot {op} to a map; use merge")
    return [current]


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


def op_set(current: Any, value: Any) -> Any:
    return value


def op_set_once(current: Any, value: Any) -> Any:
    return value if current is MISSING or current is None else current


def op_unset(current: Any, value: Any) -> Any:
    return MISSING


def op_clear(current: Any, value: Any) -> Any:
    if current is MISSING:
        return MISSING
    if isinstance(current, list):
        return []
    if isinstance(current, dict):
        return {}
    return None


def op_add(current: Any, value: Any) -> Any:
    return _as_list(current, "add") + _items(value)


def op_combine(current: Any, value: Any) -> Any:
    result: list[Any] = []
    for item in _as_list(current, "combine") + _items(value):
        if item is not None and not any(json_equal(item, seen) for seen in result):
            result.append(item)
    return result


def op_merge(current: Any, value: Any) -> Any:
    if not isinstance(value, (list, dict)):
        raise OperationFailed("merge takes a list or a map")
    if current is MISSING or current is None:
        return value
    if isinstance(value, dict):
        if not isinstance(current, dict):
            raise OperationFailed(f"cannot merge a map into a {_kind(current)}")
        merged = dict(current)
        for key, item in value.items():
            merged[find_key(merged, key) or key] = item
        return merged
    if isinstance(current, dict):
        raise OperationFailed("cannot merge a list into a map")
    return _as_list(current, "merge") + list(value)


def op_remove(current: Any, value: Any) -> Any:
    if current is MISSING or current is None:
        return current
    if isinstance(current, list):
        return [item for item in current if not json_equal(item, value)]
    return None if json_equal(current, value) else current


def _amount(value: Any) -> int | float:
    if value is None:
        return 1
    if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        raise OperationFailed(f"the amount must be a finite number, not {value!r}")
    return value  # type: ignore[no-any-return]


def op_increment(current: Any, value: Any) -> Any:
    amount = _amount(value)
    if current is MISSING or current is None:
        return amount
    if not is_number(current):
        raise OperationFailed(f"cannot increment a {_kind(current)} ({current!r})")
    return add_numbers(current, amount)


def op_decrement(current: Any, value: Any) -> Any:
    amount = _amount(value)
    if current is MISSING or current is None:
        return -amount
    if not is_number(current):
        raise OperationFailed(f"cannot decrement a {_kind(current)} ({current!r})")
    return add_numbers(current, -amount)


OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "set": op_set,
    "set_once": op_set_once,
    "unset": op_unset,
    "clear": op_clear,
    "add": op_add,
    "combine": op_combine,
    "merge": op_merge,
    "remove": op_remove,
    "increment": op_increment,
    "decrement": op_decrement,
}

#: Operations that never fail on a missing path or parent (they do nothing there).
TOLERANT_OPERATIONS = frozenset({"unset", "clear", "remove"})


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "map"


def apply_operation(
    holder: dict[str, JsonValue], segments: tuple[Segment, ...], op: str, value: JsonValue
) -> None:
    """Apply `op` at `segments` inside `holder` (a plain dict, changed in place).

    The first segment names a key of `holder`. Keys match case-insensitively (an existing
    key keeps its spelling). Writing operations need the parent to exist and be a container.
    """
    if op not in ("unset", "clear", "increment", "decrement"):
        problem = json_problem(value)
        if problem:
            raise OperationFailed(problem)
    tolerant = op in TOLERANT_OPERATIONS
    parent: Any = holder
    for depth, segment in enumerate(segments[:-1]):
        try:
            child = _get(parent, segment, segments[: depth + 1])
        except OperationFailed:
            if tolerant:
                return
            raise
        if child is MISSING or not isinstance(child, (dict, list)):
            if tolerant:
                return
            where = format_path(segments[: depth + 1])
            if child is MISSING:
                raise OperationFailed(f"the parent '{where}' does not exist")
            raise OperationFailed(f"the parent '{where}' is a {_kind(child)}, not a map or list")
        parent = child
    last = segments[-1]
    try:
        current = _get(parent, last, segments)
    except OperationFailed:
        if tolerant:
            return
        raise
    if current is MISSING and tolerant:
        return
    new = OPERATIONS[op](current, value)
    _put(parent, last, new, segments)


def _get(container: Any, segment: Segment, where: tuple[Segment, ...]) -> Any:
    if isinstance(segment, int):
        if not isinstance(container, list):
            raise OperationFailed(
                f"'{format_path(where[:-1])}' is a {_kind(container)}, not a list"
            )
        return container[segment] if segment < len(container) else MISSING
    if not isinstance(container, dict):
        raise OperationFailed(f"'{format_path(where[:-1])}' is a {_kind(container)}, not a map")
    key = find_key(container, segment)
    return MISSING if key is None else container[key]


def _put(container: Any, segment: Segment, new: Any, where: tuple[Segment, ...]) -> None:
    if isinstance(segment, int):
        if new is MISSING:
            if segment < len(container):
                del container[segment]
        elif segment < len(container):
            container[segment] = new
        elif segment == len(container):
            container.append(new)
        else:
            raise OperationFailed(
                f"index {segment} is past the end of '{format_path(where[:-1])}' "
                f"(length {len(container)})"
            )
        return
    key = find_key(container, segment) or segment
    if new is MISSING:
        container.pop(key, None)
    else:
        container[key] = new
