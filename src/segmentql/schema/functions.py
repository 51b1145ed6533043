"""Host functions: typed Python callables that queries may call (`discount(user's plan)`).

The signature comes from the function's annotations: `int` is integer, `float` number,
`Decimal` decimal, `str` string, `bool` boolean, `date`/`time`/`datetime`, `timedelta`
duration, `list[T]`/`tuple[T, ...]`/`Sequence[T]` list, `dict[str, T]`/`Mapping[str, T]` map,
`T | None` is T, and anything else (`Any`, `object`, no annotation) is `any`. Parameters with
defaults are optional; `*args` makes the function variadic.
"""

from __future__ import annotations

import collections.abc as cabc
import datetime as dt
import decimal
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from segmentql.errors import SchemaError
from segmentql.schema.types import (
    ANY,
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    NULL,
    NUMBER,
    STRING,
    TIME,
    SchemaType,
    list_of,
    map_of,
)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: SchemaType
    required: bool = True


@dataclass(frozen=True, slots=True)
class HostFunction:
    """A Python function registered for queries, with its signature in schema types."""

    name: str
    func: Callable[..., Any]
    params: tuple[Parameter, ...]
    returns: SchemaType
    #: Type of each extra argument when the function takes `*args`.
    variadic: SchemaType | None = None
    description: str = ""

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if p.required)

    @property
    def max_args(self) -> int | None:
        """None when the function takes `*args`."""
        return None if self.variadic is not None else len(self.params)

    def param_type(self, position: int) -> SchemaType:
        if position < len(self.params):
            return self.params[position].type
        return self.variadic or ANY

    def signature(self) -> str:
        parts = [
            f"{p.name}: {p.type.describe()}" + ("" if p.required else " = ...")
            for p in self.params
        ]
        if self.variadic is not None:
            parts.append(f"*args: {self.variadic.describe()}")
        return f"{self.name}({', '.join(parts)}) -> {self.returns.describe()}"

    @property
    def identity(self) -> str:
        """What makes two registrations the same (for schema fingerprints)."""
        module = getattr(self.func, "__module__", "?")
        qualname = getattr(self.func, "__qualname__", type(self.func).__name__)
        return f"{self.signature()}@{module}.{qualname}#{id(self.func):x}"


def host_function(name: str, func: Callable[..., Any]) -> HostFunction:
    """Read the signature of `func` from its annotations."""
    if not callable(func):
        raise SchemaError(f"host function {name!r} is not callable")
    if not name.isidentifier():
        raise SchemaError(f"host function name {name!r} is not an identifier")
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"cannot read the signature of host function {name!r}: {exc}") from None
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        hints = {}
    params: list[Parameter] = []
    variadic: SchemaType | None = None
    for param in signature.parameters.values():
        annotation = hints.get(param.name, param.annotation)
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            variadic = type_of_annotation(annotation, name)
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            if param.default is inspect.Parameter.empty:
                raise SchemaError(
                    f"host function {name!r} has a required keyword-only parameter "
                    f"{param.name!r}; queries pass arguments by position"
                )
            continue
        params.append(
            Parameter(
                param.name,
                type_of_annotation(annotation, name),
                required=param.default is inspect.Parameter.empty,
            )
        )
    returns = type_of_annotation(hints.get("return", signature.return_annotation), name)
    doc = inspect.getdoc(func) or ""
    return HostFunction(
        name=name, func=func, params=tuple(params), returns=returns, variadic=variadic,
        description=doc.split("\n\n")[0].replace("\n", " "),
    )


_SCALARS: dict[Any, SchemaType] = {
    bool: BOOLEAN,
    int: INTEGER,
    float: NUMBER,
    decimal.Decimal: DECIMAL,
    str: STRING,
    dt.datetime: DATETIME,
    dt.date: DATE,
    dt.time: TIME,
    dt.timedelta: DURATION,
    type(None): NULL,
    None: NULL,
}


def type_of_annotation(annotation: Any, function: str = "?") -> SchemaType:
    """The schema type for a Python annotation (`any` when it says nothing usable)."""
    if annotation is inspect.Parameter.empty or annotation is Any or annotation is object:
        return ANY
    if isinstance(annotation, str):  # an unresolved forward reference
        return ANY
    found = _SCALARS.get(annotation)
    if found is not None:
        return found
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            return type_of_annotation(members[0], function)
        kinds = [type_of_annotation(a, function) for a in members]
        if all(k.is_numeric for k in kinds):
            return NUMBER
        return ANY
    if origin in (list, tuple, set, frozenset, cabc.Sequence, cabc.Iterable, cabc.Collection):
        item = args[0] if args else Any
        return list_of(type_of_annotation(item, function))
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        value = args[1] if len(args) == 2 else Any
        return map_of(type_of_annotation(value, function))
    if annotation in (list, tuple, set, frozenset):
        return list_of(ANY)
    if annotation is dict:
        return map_of(ANY)
    if origin is typing.Literal:
        if all(isinstance(a, str) for a in args):
            return SchemaType(kind=STRING.kind, enum=tuple(args))
        return ANY
    return ANY
