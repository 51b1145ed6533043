"""Host functions: signatures read from annotations."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pytest

from segmentql.errors import SchemaError
from segmentql.schema import (
    ANY,
    BOOLEAN,
    DATE,
    DECIMAL,
    DURATION,
    INTEGER,
    NUMBER,
    STRING,
    Schema,
    list_of,
    map_of,
    string,
)


def discount(plan: str, rate: float = 0.1) -> decimal.Decimal:
    """The discount for a plan.

    More text that is not part of the summary.
    """
    return decimal.Decimal(rate)


def tags(*names: str) -> list[str]:
    return list(names)


def everything(
    a: int, b: bool, c: dt.date, d: dt.timedelta, e: Sequence[int], f: Mapping[str, float],
    g: int | None, h: Any, i: Literal["x", "y"], j=None,  # type: ignore[no-untyped-def]
) -> dict[str, Any]:
    return {}


def test_signature_from_annotations() -> None:
    schema = Schema.default().with_functions(discount=discount)
    f = schema.functions["discount"]
    assert f.func is discount
    assert [(p.name, p.type, p.required) for p in f.params] == [
        ("plan", STRING, True), ("rate", NUMBER, False),
    ]
    assert f.returns == DECIMAL
    assert (f.min_args, f.max_args) == (1, 2)
    assert f.description == "The discount for a plan."
    assert f.signature() == "discount(plan: string, rate: number = ...) -> decimal"


def test_variadic_functions() -> None:
    f = Schema.default().with_functions(tags=tags).functions["tags"]
    assert (f.min_args, f.max_args) == (0, None)
    assert f.param_type(5) == STRING
    assert f.returns == list_of(STRING)


def test_every_annotation_kind() -> None:
    f = Schema.default().with_functions(everything=everything).functions["everything"]
    assert [p.type for p in f.params] == [
        INTEGER, BOOLEAN, DATE, DURATION, list_of(INTEGER), map_of(NUMBER), INTEGER, ANY,
        string(enum=("x", "y")), ANY,
    ]
    assert f.returns == map_of(ANY)
    assert (f.min_args, f.max_args) == (9, 10)


def test_functions_change_the_fingerprint() -> None:
    base = Schema.default()
    one = base.with_functions(discount=discount)
    assert one != base and one.fingerprint != base.fingerprint
    assert one == base.with_functions(discount=discount)
    assert one != base.with_functions(discount=lambda plan: plan)
    assert "discount" not in base.functions  # immutable


def test_function_lookup_is_case_insensitive() -> None:
    schema = Schema.default().with_functions(discount=discount)
    assert schema.function("DISCOUNT") is schema.functions["discount"]


def test_bad_registrations() -> None:
    with pytest.raises(SchemaError, match="not callable"):
        Schema.default().with_functions(x=42)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="has the name of a variable"):
        Schema.default().with_functions(user=discount)

    def keyword_only(*, a: int) -> int:
        return a

    with pytest.raises(SchemaError, match="keyword-only"):
        Schema.default().with_functions(k=keyword_only)
