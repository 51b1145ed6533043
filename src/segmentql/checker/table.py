"""The operator × type table: which operand types each operator and test accepts, and what it
gives. The checker looks every operator up here, and `docs/operators.md` is generated from it
(a test fails when the two drift).

Operand types are grouped in categories: every numeric kind (integer, decimal, number) is
`number`, objects and maps are `map`. A `null` or `any` operand matches every row (at run
time null propagates, and `any` is unknown until then), so it is never an error.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

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
    TypeKind,
    list_of,
)


class Cat(enum.StrEnum):
    """Operand categories of the table."""

    NULL = "null"
    BOOLEAN = "boolean"
    NUMBER = "number"
    STRING = "string"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    DURATION = "duration"
    LIST = "list"
    MAP = "map"
    REGEX = "regex"
    FUNCTION = "function"
    ANYTHING = "*"  # a row that takes every category


_CAT_OF_KIND: dict[TypeKind, Cat | None] = {
    TypeKind.NULL: None,
    TypeKind.ANY: None,
    TypeKind.BOOLEAN: Cat.BOOLEAN,
    TypeKind.INTEGER: Cat.NUMBER,
    TypeKind.NUMBER: Cat.NUMBER,
    TypeKind.DECIMAL: Cat.NUMBER,
    TypeKind.STRING: Cat.STRING,
    TypeKind.DATE: Cat.DATE,
    TypeKind.TIME: Cat.TIME,
    TypeKind.DATETIME: Cat.DATETIME,
    TypeKind.DURATION: Cat.DURATION,
    TypeKind.LIST: Cat.LIST,
    TypeKind.MAP: Cat.MAP,
    TypeKind.OBJECT: Cat.MAP,
    TypeKind.REGEX: Cat.REGEX,
    TypeKind.FUNCTION: Cat.FUNCTION,
}


def category(t: SchemaType) -> Cat | None:
    """The table category of a type; None for `null` and `any`, which match every row."""
    return _CAT_OF_KIND[t.kind]


class Result(enum.StrEnum):
    """How a row computes its result type from the operand types."""

    BOOLEAN = "boolean"
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    NUMERIC = "numeric"  # integer if both are integers, number if either is a float, else decimal
    QUOTIENT = "quotient"  # number if either is a float, else decimal
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    DURATION = "duration"
    LEFT = "left"  # the left operand's type
    JOIN = "join"  # the common type of both operands
    RANGE = "range"  # a list of the operands' type
    ELEMENT = "element"  # an element of the (left) collection
    ELEMENT_NUMERIC = "element (numeric)"
    KEYS = "keys"  # list of keys: strings for maps, integers for lists
    VALUES = "values"  # list of elements


@dataclass(frozen=True, slots=True)
class Row:
    left: Cat
    right: Cat | None
    result: Result


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    """One operator or test: how it is written, what it is, its rows."""

    key: str
    written: str
    group: str
    rows: tuple[Row, ...]
    unary: bool = False

    def accepts(self, left: Cat | None, right: Cat | None) -> list[Row]:
        """The rows matching the operand categories (None matches anything)."""
        out = []
        for row in self.rows:
            if left is not None and row.left not in (Cat.ANYTHING, left):
                continue
            if (not self.unary and right is not None
                    and row.right not in (Cat.ANYTHING, right)):
                continue
            out.append(row)
        return out


def _rows(
    pairs: Iterable[tuple[Cat, Cat | None]], result: Result
) -> tuple[Row, ...]:
    return tuple(Row(a, b, result) for a, b in pairs)


N, S, D, T, DT, DUR = Cat.NUMBER, Cat.STRING, Cat.DATE, Cat.TIME, Cat.DATETIME, Cat.DURATION
L, M, B, RX, ANYC = Cat.LIST, Cat.MAP, Cat.BOOLEAN, Cat.REGEX, Cat.ANYTHING

_ORDERED = ((N, N), (S, S), (D, D), (DT, DT), (D, DT), (DT, D), (T, T), (DUR, DUR))
_TEMPORAL = ((D, D), (D, DT), (DT, D), (DT, DT))
# A single value on the right counts as a one-element collection (`tags contains all of "a"`).
_SETS = ((L, ANYC), (M, ANYC))

_OPERATORS: tuple[OperatorInfo, ...] = (
    # ---------------------------------------------------------------- logical
    OperatorInfo("not", "not A, !A", "logical", _rows([(B, None)], Result.BOOLEAN), unary=True),
    OperatorInfo("and", "A and B, A && B", "logical", _rows([(B, B)], Result.BOOLEAN)),
    OperatorInfo("or", "A or B, A \\|\\| B", "logical", _rows([(B, B)], Result.BOOLEAN)),
    # ---------------------------------------------------------------- arithmetic
    OperatorInfo("neg", "-A", "arithmetic",
                 (Row(N, None, Result.NUMERIC), Row(DUR, None, Result.DURATION)), unary=True),
    OperatorInfo("pos", "+A (converts to a number)", "arithmetic",
                 (Row(N, None, Result.NUMERIC), Row(S, None, Result.DECIMAL),
                  Row(DUR, None, Result.DURATION)), unary=True),
    OperatorInfo("percent", "A%", "arithmetic", _rows([(N, None)], Result.DECIMAL), unary=True),
    OperatorInfo("+", "A + B, A plus B", "arithmetic", (
        Row(N, N, Result.NUMERIC),
        Row(D, DUR, Result.DATE), Row(DT, DUR, Result.DATETIME),
        Row(DUR, D, Result.DATE), Row(DUR, DT, Result.DATETIME),
        Row(DUR, DUR, Result.DURATION),
    )),
    OperatorInfo("-", "A - B, A minus B", "arithmetic", (
        Row(N, N, Result.NUMERIC),
        Row(D, DUR, Result.DATE), Row(DT, DUR, Result.DATETIME),
        Row(DUR, DUR, Result.DURATION),
        Row(D, D, Result.DURATION), Row(DT, DT, Result.DURATION),
        Row(D, DT, Result.DURATION), Row(DT, D, Result.DURATION),
    )),
    OperatorInfo("*", "A * B, A times B", "arithmetic", _rows([(N, N)], Result.NUMERIC)),
    OperatorInfo("/", "A / B, A divided by B", "arithmetic", _rows([(N, N)], Result.QUOTIENT)),
    OperatorInfo("mod", "A mod B, A modulo B", "arithmetic", _rows([(N, N)], Result.NUMERIC)),
    OperatorInfo("**", "A ** B, A to power of B", "arithmetic",
                 _rows([(N, N)], Result.NUMERIC)),
    # ---------------------------------------------------------------- other operations
    OperatorInfo("&", "A & B (converts both to text)", "other",
                 _rows([(ANYC, ANYC)], Result.STRING)),
    OperatorInfo("..", "A .. B (at most 30 items)", "other",
                 _rows([(N, N), (S, S), (D, D)], Result.RANGE)),
    OperatorInfo("??", "A ?? B, A or else B", "other", _rows([(ANYC, ANYC)], Result.JOIN)),
    # ---------------------------------------------------------------- comparison
    OperatorInfo("==", "A == B", "comparison", _rows([(ANYC, ANYC)], Result.BOOLEAN)),
    OperatorInfo("!=", "A != B", "comparison", _rows([(ANYC, ANYC)], Result.BOOLEAN)),
    *(
        OperatorInfo(op, f"A {op} B", "comparison", _rows(_ORDERED, Result.BOOLEAN))
        for op in ("<", "<=", ">", ">=")
    ),
    # ---------------------------------------------------------------- tests
    OperatorInfo("equal", "A is B, A is equal to B", "test",
                 _rows([(ANYC, ANYC)], Result.BOOLEAN)),
    OperatorInfo("greater", "A is greater than B", "test", _rows(_ORDERED, Result.BOOLEAN)),
    OperatorInfo("greater_equal", "A is greater than or equal to B, A is at least B", "test",
                 _rows(_ORDERED, Result.BOOLEAN)),
    OperatorInfo("less", "A is less than B", "test", _rows(_ORDERED, Result.BOOLEAN)),
    OperatorInfo("less_equal", "A is less than or equal to B, A is at most B", "test",
                 _rows(_ORDERED, Result.BOOLEAN)),
    OperatorInfo("between", "A is between B and C", "test", _rows(_ORDERED, Result.BOOLEAN)),
    OperatorInfo("before", "A is before B", "test", _rows(_TEMPORAL, Result.BOOLEAN)),
    OperatorInfo("after", "A is after B", "test", _rows(_TEMPORAL, Result.BOOLEAN)),
    OperatorInfo("at_time", "A is at B", "test",
                 _rows([(D, T), (DT, T), (T, T), (D, N), (DT, N), (T, N)], Result.BOOLEAN)),
    OperatorInfo("starts_with", "A starts with B", "test", _rows([(S, S)], Result.BOOLEAN)),
    OperatorInfo("ends_with", "A ends with B", "test", _rows([(S, S)], Result.BOOLEAN)),
    OperatorInfo("like", "A is like B (case-insensitive substring)", "test",
                 _rows([(S, S)], Result.BOOLEAN)),
    OperatorInfo("matches", "A matches B (substring, or regex search)", "test",
                 _rows([(S, S), (S, RX)], Result.BOOLEAN)),
    OperatorInfo("contains", "A contains B, A includes B", "test",
                 _rows([(S, S), (L, ANYC), (M, ANYC)], Result.BOOLEAN)),
    OperatorInfo("in", "A is in B", "test",
                 _rows([(ANYC, L), (ANYC, M), (S, S)], Result.BOOLEAN)),
    OperatorInfo("contains_all", "A contains all of B", "test", _rows(_SETS, Result.BOOLEAN)),
    OperatorInfo("contains_either", "A contains either B", "test",
                 _rows(_SETS, Result.BOOLEAN)),
    OperatorInfo("contains_none", "A contains none of B, A contains neither B", "test",
                 _rows(_SETS, Result.BOOLEAN)),
    OperatorInfo("defined", "A is defined, A is known", "test",
                 _rows([(ANYC, None)], Result.BOOLEAN), unary=True),
    OperatorInfo("empty", "A is empty", "test",
                 _rows([(ANYC, None)], Result.BOOLEAN), unary=True),
    # ---------------------------------------------------------------- macros and modifiers
    OperatorInfo("count", "count of A", "macro",
                 _rows([(L, None), (M, None), (S, None)], Result.INTEGER), unary=True),
    OperatorInfo("sum", "sum of A", "macro",
                 _rows([(L, None), (M, None)], Result.ELEMENT_NUMERIC), unary=True),
    OperatorInfo("average", "average of A", "macro",
                 _rows([(L, None), (M, None)], Result.QUOTIENT), unary=True),
    *(
        OperatorInfo(op, f"{op} of A", "macro",
                     _rows([(L, None), (M, None)], Result.ELEMENT), unary=True)
        for op in ("minimum", "maximum", "first", "last")
    ),
    OperatorInfo("keys", "keys of A", "macro",
                 _rows([(L, None), (M, None)], Result.KEYS), unary=True),
    OperatorInfo("values", "values of A", "macro",
                 _rows([(L, None), (M, None)], Result.VALUES), unary=True),
    OperatorInfo("case", "A in lower|upper|title|sentence case", "modifier",
                 _rows([(S, None)], Result.STRING), unary=True),
    OperatorInfo("rounded", "A rounded [MODE] [with scale of N]", "modifier",
                 _rows([(N, None)], Result.LEFT), unary=True),
    OperatorInfo("without duplicates", "A without duplicates", "modifier",
                 _rows([(L, None), (M, None)], Result.LEFT), unary=True),
    OperatorInfo("sorted", "A sorted [ascending|descending] [order]", "modifier",
                 _rows([(L, None), (M, None)], Result.LEFT), unary=True),
    OperatorInfo("at", "A at TIME", "modifier",
                 _rows([(D, T), (DT, T), (D, N), (DT, N)], Result.DATETIME)),
)

OPERATORS: dict[str, OperatorInfo] = {info.key: info for info in _OPERATORS}

_NUMBERS_FROM = frozenset({Cat.NUMBER, Cat.STRING})  # a boolean is never a number

#: `V as TYPE`: the categories each cast converts from (anything else is Q212).
CASTS: dict[str, frozenset[Cat]] = {
    "boolean": frozenset({Cat.BOOLEAN, Cat.NUMBER, Cat.STRING}),
    "string": frozenset(c for c in Cat if c not in (Cat.FUNCTION, Cat.ANYTHING)),
    "number": _NUMBERS_FROM,
    "integer": _NUMBERS_FROM,
    "decimal": _NUMBERS_FROM,
    "float": _NUMBERS_FROM,
    "collection": frozenset({Cat.LIST, Cat.MAP}),
    "time": frozenset({Cat.STRING, Cat.TIME, Cat.DATETIME, Cat.NUMBER}),  # a number is an hour
    "date": frozenset({Cat.STRING, Cat.DATE, Cat.DATETIME}),
    "datetime": frozenset({Cat.STRING, Cat.DATE, Cat.DATETIME}),
}

_RESULT_TYPES: dict[Result, SchemaType] = {
    Result.BOOLEAN: BOOLEAN,
    Result.STRING: STRING,
    Result.INTEGER: INTEGER,
    Result.DECIMAL: DECIMAL,
    Result.DATE: DATE,
    Result.TIME: TIME,
    Result.DATETIME: DATETIME,
    Result.DURATION: DURATION,
}


def numeric_join(a: SchemaType, b: SchemaType) -> SchemaType:
    """The type of arithmetic on two numbers: integer op integer is an integer, a float
    (or unknown number) makes a number, otherwise a decimal."""
    ka, kb = a.kind, b.kind
    if ka is TypeKind.INTEGER and kb is TypeKind.INTEGER:
        return INTEGER
    if TypeKind.NUMBER in (ka, kb) or TypeKind.ANY in (ka, kb) or TypeKind.NULL in (ka, kb):
        return NUMBER
    return DECIMAL


def join(a: SchemaType, b: SchemaType) -> SchemaType:
    """The common type of two values (`a ?? b`, both branches of a conditional, list items)."""
    if a is b or a == b:
        return a
    if a.kind is TypeKind.NULL:
        return b
    if b.kind is TypeKind.NULL:
        return a
    if a.is_any or b.is_any:
        return ANY
    if a.is_numeric and b.is_numeric:
        return NUMBER if TypeKind.NUMBER in (a.kind, b.kind) else DECIMAL
    if a.kind is b.kind is TypeKind.STRING:
        return STRING
    if a.kind is b.kind and a.kind in (TypeKind.LIST, TypeKind.MAP):
        inner = join(a.items or ANY, b.items or ANY)
        return list_of(inner) if a.kind is TypeKind.LIST else SchemaType(kind=a.kind, items=inner)
    if {a.kind, b.kind} <= {TypeKind.MAP, TypeKind.OBJECT}:
        return SchemaType(kind=TypeKind.MAP, items=ANY)
    return ANY


def result_type(row: Row, left: SchemaType, right: SchemaType | None) -> SchemaType:
    """The result of one matching row for these operand types."""
    fixed = _RESULT_TYPES.get(row.result)
    if fixed is not None:
        return fixed
    r = right if right is not None else left
    match row.result:
        case Result.NUMERIC:
            return numeric_join(left, r)
        case Result.QUOTIENT:
            if row.left is Cat.DURATION:
                return DURATION
            if TypeKind.NUMBER in (left.kind, r.kind):
                return NUMBER
            return DECIMAL
        case Result.LEFT:
            return left
        case Result.JOIN:
            return join(left, r)
        case Result.RANGE:
            if left.kind is TypeKind.NULL or left.is_any:
                return list_of(r if not (r.is_any or r.kind is TypeKind.NULL) else ANY)
            return list_of(INTEGER if left.is_numeric else left)
        case Result.ELEMENT:
            return left.element
        case Result.ELEMENT_NUMERIC:
            element = left.element
            return element if element.is_numeric else NUMBER
        case Result.KEYS:
            return list_of(INTEGER if left.kind is TypeKind.LIST else STRING)
        case Result.VALUES:
            return list_of(left.element)
    return ANY  # pragma: no cover - every Result is handled above


# Results by (operator, id(left), id(right)); entries keep the operand types alive so the ids
# stay theirs. Types are few (constants and schema-owned), so this stays small.
_LOOKUPS: dict[tuple[str, int, int], tuple[SchemaType, SchemaType | None, SchemaType | None]] = {}


def lookup(
    key: str, left: SchemaType, right: SchemaType | None = None
) -> SchemaType | None:
    """The result type of operator `key` on these operand types, or None if the table has no
    row for them. With a null/any operand, rows that agree give their result, else `any`."""
    cache_key = (key, id(left), id(right))
    hit = _LOOKUPS.get(cache_key)
    if hit is not None and hit[0] is left and hit[1] is right:
        return hit[2]
    found = _lookup(key, left, right)
    if len(_LOOKUPS) > 20_000:
        _LOOKUPS.clear()
    _LOOKUPS[cache_key] = (left, right, found)
    return found


def _lookup(
    key: str, left: SchemaType, right: SchemaType | None
) -> SchemaType | None:
    info = OPERATORS[key]
    has_null = left.kind is TypeKind.NULL or (right is not None and right.kind is TypeKind.NULL)
    if has_null and (info.group == "arithmetic" or key in ("at", "..")):
        return NULL  # arithmetic with null gives null (spec §4), whatever the other side
    if has_null and info.group in ("test", "comparison") and key not in ("==", "!="):
        return BOOLEAN  # a test with a null operand is false, whatever the other side
    rows = info.accepts(category(left), None if right is None else category(right))
    if not rows:
        return None
    results = {result_type(row, left, right) for row in rows}
    if len(results) == 1:
        return results.pop()
    return ANY


# ---------------------------------------------------------------------- documentation

def render_markdown() -> str:
    """The operator × type table as Markdown (docs/operators.md is this text)."""
    lines = [
        "# Operators and operand types",
        "",
        "<!-- Generated by segmentql.checker.table.render_markdown();",
        "     tests/checker/test_operator_docs.py fails when this file and the table differ. -->",
        "",
        "The checker looks every operator, test, macro and modifier up in one table. Operand",
        "types are grouped: `number` is any of integer, decimal and number (float), `map` is a",
        "map or an object. `*` matches every type. An operand of type `null` or `any` (an",
        "attribute whose type the schema does not know) matches every row, so it is never",
        "reported: at run time null propagates and a wrong type becomes an error value.",
        "Arithmetic (and `at`, `..`) with a `null` operand gives `null`, and a test with a `null`",
        "operand is false, whatever the other operand.",
        "A row that is not in the table is reported as Q204 (operators) or Q205 (tests).",
        "",
        "Result rules: `numeric` is integer when both operands are integers, number (float) when",
        "either is a float, decimal otherwise; `quotient` is decimal unless a float is involved;",
        "`left` is the left operand's type; `join` the common type of both; `range` a list of",
        "the endpoints' type; `element` an element of the collection; `keys` a list of strings",
        "(maps) or integers (lists); `values` a list of the elements.",
        "",
        "ISO-8601 string literals are accepted where a date, time or datetime is expected",
        "(`user's birthDate is before \"2000-01-01\"`); a string that is not a valid ISO value",
        "there is Q218.",
        "",
    ]
    titles = {
        "logical": "Logical", "arithmetic": "Arithmetic", "other": "Other operations",
        "comparison": "Comparison", "test": "Tests", "macro": "Collection macros",
        "modifier": "Modifiers",
    }
    for group, title in titles.items():
        lines += [f"## {title}", "", "| Operator | Written | Left | Right | Result |",
                  "|---|---|---|---|---|"]
        for info in _OPERATORS:
            if info.group != group:
                continue
            for row in info.rows:
                right = "" if info.unary or row.right is None else f"`{row.right.value}`"
                lines.append(
                    f"| `{info.key}` | {info.written} | `{row.left.value}` | {right} "
                    f"| {row.result.value} |"
                )
        lines.append("")
    lines += [
        "## Conversions (`V as TYPE`)", "",
        "A conversion from a type that is not listed is Q212. A string literal converted to",
        "a date, time or datetime must be a valid ISO value (Q218).", "",
        "| Cast | Converts from |", "|---|---|",
    ]
    order = [c for c in Cat if c is not Cat.ANYTHING]
    for name, sources in CASTS.items():
        listed = ", ".join(f"`{c.value}`" for c in order if c in sources)
        lines.append(f"| `as {name}` | {listed} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
