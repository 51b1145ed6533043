"""The AST as JSON, for tools (CLI `segmentql parse --format json`, editors, golden files).

A node is an object `{"type": "ClassName", <field>: <value>, ..., "span": {...}}`:
- child nodes are objects, tuples are arrays, absent optional values are null;
- enumerations are their canonical word (`"and"`, `"ignoring case"`, `"pageOpened"`);
- integers are numbers, floats are numbers, exact decimals are strings (`"19.90"`, scale kept);
- `span` is `Span.to_json()` (offsets in code points, 1-based lines and columns);
- a field whose name is itself `type` (`Cast.type`) is written `type_`.

`from_json(to_json(node)) == node` and the spans are restored too.
"""

from __future__ import annotations

import decimal
import enum
import re
from dataclasses import fields
from functools import cache
from typing import Any

from segmentql.diagnostics import Span
from segmentql.syntax import ast

__all__ = ["from_json", "node_classes", "to_json"]


@cache
def node_classes() -> dict[str, type[ast.Node]]:
    """Every concrete AST node class, by name."""
    found: dict[str, type[ast.Node]] = {}
    for name, value in vars(ast).items():
        if isinstance(value, type) and issubclass(value, ast.Node) and value is not ast.Node:
            found[name] = value
    return found


@cache
def _enum_classes() -> dict[str, type[enum.Enum]]:
    return {
        name: value for name, value in vars(ast).items()
        if isinstance(value, type) and issubclass(value, enum.Enum)
    }


def to_json(node: ast.Node) -> dict[str, Any]:
    """The JSON object for `node` (and its children)."""
    out: dict[str, Any] = {"type": type(node).__name__}
    for f in fields(node):
        if f.name == "span":
            continue
        out[_key(f.name)] = _value_to_json(getattr(node, f.name))
    out["span"] = node.span.to_json()
    return out


def _key(field_name: str) -> str:
    return "type_" if field_name == "type" else field_name


def _value_to_json(value: Any) -> Any:
    if isinstance(value, ast.Node):
        return to_json(value)
    if isinstance(value, tuple):
        return [_value_to_json(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def from_json(data: dict[str, Any]) -> ast.Node:
    """The node described by `data` (the inverse of `to_json`). Raises ValueError on a
    document that does not describe an AST."""
    if not isinstance(data, dict) or "type" not in data:
        raise ValueError(f"not an AST node: {data!r:.80}")
    cls = node_classes().get(data["type"])
    if cls is None:
        raise ValueError(f"unknown AST node type {data['type']!r}")
    known = {"type", "span"} | {_key(f.name) for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown fields for {cls.__name__}: {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name == "span":
            continue
        if _key(f.name) in data:
            kwargs[f.name] = _value_from_json(data[_key(f.name)], str(f.type))
    span = data.get("span")
    if span is not None:
        kwargs["span"] = Span(**span)
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"bad fields for {cls.__name__}: {error}") from None


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _value_from_json(value: Any, annotation: str) -> Any:
    if isinstance(value, dict):
        return from_json(value)
    if isinstance(value, list):
        return tuple(_value_from_json(v, annotation) for v in value)
    if isinstance(value, str):
        names = set(_IDENTIFIER.findall(annotation))
        if "decimal.Decimal" in names:
            return decimal.Decimal(value)
        for name in names:
            enum_class = _enum_classes().get(name)
            if enum_class is not None:
                return enum_class(value)
        return value
    if isinstance(value, int) and not isinstance(value, bool) and annotation == "float":
        return float(value)
    return value
