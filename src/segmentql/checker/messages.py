"""Wording of the checker's messages and help texts (kept apart from the rules)."""

from __future__ import annotations

import decimal

from segmentql.schema.types import SchemaType, TypeKind
from segmentql.syntax import ast


def kind_word(kind: str) -> str:
    """How a binding kind is called in messages."""
    return {"let": "declaration", "function": "function", "item": "quantifier item",
            "index": "quantifier index", "parameter": "parameter"}.get(kind, "name")


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 argument`, `2 arguments`; or `1 was` / `2 were` with an explicit plural."""
    if plural is None:
        return f"{n} {singular}{'' if n == 1 else 's'}"
    return f"{n} {singular if n == 1 else plural}"


def literal_help(other: SchemaType, lit_node: ast.Node) -> str:
    """How to fix a literal that can never equal a value of type `other`."""
    if other.is_numeric and isinstance(lit_node, ast.StringLiteral):
        text = lit_node.value.strip()
        return f"compare with the number {text} (no quotes)" if looks_numeric(text) \
            else "compare with a number"
    if other.kind is TypeKind.STRING and isinstance(
        lit_node, ast.IntegerLiteral | ast.DecimalLiteral | ast.FloatLiteral | ast.BooleanLiteral
    ):
        return "quote the value to compare with a string"
    return f"compare with a {other.describe()} value"


def looks_numeric(text: str) -> bool:
    """Whether a string literal holds a number (`"25"`)."""
    try:
        decimal.Decimal(text)
    except decimal.InvalidOperation:
        return False
    return True


def unary_help(key: str) -> str:
    """Help for a unary operator on the wrong type."""
    if key == "not":
        return "`not` takes a boolean; test the value first, e.g. `not (x is empty)`"
    return "arithmetic takes numbers (and durations)"


def binary_help(key: str, left: SchemaType, right: SchemaType) -> str:
    """Help for a binary operator on the wrong types."""
    if key in ("and", "or"):
        return f"`{key}` joins booleans; write a test on each side, e.g. `x is defined`"
    if key == "+" and TypeKind.STRING in (left.kind, right.kind):
        return "use `&` to join strings"
    if key == "..":
        return "ranges take integers, single characters or dates"
    return "arithmetic takes numbers, and dates/times with durations"


def compare_help(key: str, left: SchemaType, right: SchemaType) -> str:
    """Help for an ordering comparison on the wrong types."""
    kinds = {left.kind, right.kind}
    if TypeKind.STRING in kinds and (_NUMBER_KINDS & kinds):
        return "convert one side, e.g. `x as number`, or compare with a number literal"
    return "order comparisons take two numbers, strings, dates, times or durations"


_NUMBER_KINDS = {TypeKind.INTEGER, TypeKind.DECIMAL, TypeKind.NUMBER}


def test_help(key: str, subject: SchemaType) -> str:
    """Help for a test on the wrong types."""
    if key in ("starts_with", "ends_with", "like", "matches"):
        return "this test takes strings; convert with `as string` if needed"
    if key in ("contains_all", "contains_either", "contains_none"):
        return "this test takes a collection on the left, e.g. " \
            "`user's interests contains all of [\"a\", \"b\"]`"
    if key == "in":
        return "`is in` takes a list, a map or a string on the right"
    if key == "contains":
        return "`contains` takes a list, a map or a string on the left"
    if key == "at_time":
        return "`is at` takes a date, date-time or time, and a time such as \"12:00\""
    return "check the operand types"
