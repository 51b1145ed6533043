"""Hypothesis strategies for segmentql users: profiles, queries and event sequences.

    from segmentql.testing.strategies import profiles, queries, events

    @given(queries(schema), profiles(schema))
    def test_audiences_never_raise(query, profile):
        compile_query(query, schema).matches(profile)

- `profiles(schema)`: variables mappings whose values fit the schema, with attributes missing
  and set to null.
- `queries(schema)`: boolean queries as text that check without errors against the schema:
  tests on attribute paths of the schema with literals of the attribute's type, combined with
  `and`, `or` and `not` (built as ASTs and printed with the formatter).
- `events(schema)`: event sequences (identify, patch, track, group) that a `ProfileStore`
  with this schema applies without error.

`_hypothesis_setup_hook` (hypothesis' entry point) registers strategies for the state event
models and `Snapshot`, so `st.from_type(Identify)` or `st.from_type(Snapshot)` work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

if TYPE_CHECKING:
    from segmentql.schema import Schema, SchemaType
    from segmentql.syntax import ast as A

__all__ = ["events", "profiles", "queries", "values_of"]

#: Variables the evaluator takes from the clock, not from the profile.
CLOCK_VARIABLES = frozenset({"now", "today", "yesterday", "tomorrow"})

_WORDS = ("pro", "free", "pricing", "Paris", "Zoë", "north", "a b", "x", "", "日本", "😀")
_STRINGS = st.one_of(
    st.sampled_from(_WORDS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
)
_DATES = st.dates(dt.date(1950, 1, 1), dt.date(2040, 12, 31))
_DATETIMES = st.datetimes(
    dt.datetime(1990, 1, 1), dt.datetime(2040, 12, 31), timezones=st.just(dt.UTC)
)


def _schema(schema: Schema | None) -> Schema:
    from segmentql.schema import Schema

    return schema if schema is not None else Schema.default()


# ------------------------------------------------------------------------------------------
# Values and profiles
# ------------------------------------------------------------------------------------------


def values_of(type_: SchemaType, *, nulls: bool = True) -> st.SearchStrategy[Any]:
    """JSON-like values that `type_` accepts (dates and date-times as ISO-8601 strings);
    objects leave attributes out at random; with `nulls`, any value may be null."""
    base = _non_null(type_)
    return st.one_of(st.none(), base) if nulls else base


def _non_null(type_: SchemaType) -> st.SearchStrategy[Any]:
    from segmentql.schema import TypeKind

    kind = type_.kind
    if kind is TypeKind.NULL:
        return st.none()
    if kind is TypeKind.BOOLEAN:
        return st.booleans()
    if kind is TypeKind.INTEGER:
        return st.integers(-1000, 10**6)
    if kind in (TypeKind.NUMBER, TypeKind.DECIMAL):
        return st.one_of(
            st.integers(-1000, 10**6),
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        )
    if kind is TypeKind.STRING:
        if type_.enum:
            return st.sampled_from(type_.enum)
        if type_.format == "date":
            return _DATES.map(dt.date.isoformat)
        if type_.format == "datetime":
            return _DATETIMES.map(dt.datetime.isoformat)
        return _STRINGS
    if kind is TypeKind.DATE:
        return _DATES.map(dt.date.isoformat)
    if kind is TypeKind.TIME:
        return st.times().map(lambda t: t.isoformat(timespec="seconds"))
    if kind is TypeKind.DATETIME:
        return _DATETIMES.map(dt.datetime.isoformat)
    if kind is TypeKind.DURATION:
        return st.integers(0, 10**6).map(lambda s: f"PT{s}S")
    if kind is TypeKind.LIST:
        return st.lists(values_of(type_.element, nulls=False), max_size=3)
    if kind is TypeKind.MAP:
        return st.dictionaries(st.sampled_from(("a", "b", "k")), values_of(type_.element),
                               max_size=3)
    if kind is TypeKind.OBJECT:
        optional = {
            spec.name: values_of(spec.type)
            for spec in type_.fields
            if not spec.virtual
        }
        return st.fixed_dictionaries({}, optional=optional)
    # `any`: a few scalar kinds.
    return st.one_of(st.booleans(), st.integers(-100, 100), _STRINGS)


def profiles(schema: Schema | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Variables mappings valid for `schema` (default: the standard catalog), with missing
    variables and attributes and null values. The clock variables are left to the clock."""
    resolved = _schema(schema)
    optional = {
        name: values_of(spec.type)
        for name, spec in resolved.variables.items()
        if name.casefold() not in CLOCK_VARIABLES
    }
    return st.fixed_dictionaries({}, optional=optional)


# ------------------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------------------


def _paths(schema: Schema) -> list[tuple[A.Expr, SchemaType]]:
    """(accessor AST, type) of every attribute path a query can read, to a depth of 3."""
    from segmentql.syntax import ast as A
    from segmentql.syntax.formatter import is_identifier

    out: list[tuple[A.Expr, SchemaType]] = []

    def walk(node: A.Expr, type_: SchemaType, depth: int) -> None:
        out.append((node, type_))
        if depth >= 3:
            return
        for name, child, _ in schema.attributes_of(type_):
            if is_identifier(name) and name.casefold() != "custom":
                walk(A.Attribute(node, name), child, depth + 1)

    for name, spec in schema.variables.items():
        if name.casefold() in CLOCK_VARIABLES or not is_identifier(name):
            continue
        walk(A.Variable(name), spec.type, 0)
    return out


def _literal(type_: SchemaType) -> st.SearchStrategy[A.Expr] | None:
    """Literals of `type_`'s kind, or None when the type has no literal form here."""
    from segmentql.schema import TypeKind
    from segmentql.syntax import ast as A

    kind = type_.kind
    if kind is TypeKind.BOOLEAN:
        return st.builds(A.BooleanLiteral, st.booleans())
    if kind in (TypeKind.INTEGER, TypeKind.NUMBER, TypeKind.DECIMAL):
        return st.builds(A.IntegerLiteral, st.integers(0, 10**6))
    if kind is TypeKind.STRING:
        if type_.enum:
            return st.builds(A.StringLiteral, st.sampled_from(type_.enum))
        return st.builds(A.StringLiteral, _STRINGS)
    return None


def _tests_for(
    subject: A.Expr, type_: SchemaType, depth: int = 0
) -> Iterator[st.SearchStrategy[A.Expr]]:
    from segmentql.schema import TypeKind
    from segmentql.syntax import ast as A
    from segmentql.syntax.formatter import is_identifier

    kind = type_.kind
    negated = st.booleans()
    yield st.builds(A.Test, st.just(A.TestOp.DEFINED), st.just(subject), negated=negated)
    literal = _literal(type_)
    if literal is not None:
        yield st.builds(
            A.Test, st.just(A.TestOp.EQUAL), st.just(subject), st.tuples(literal),
            negated=negated,
        )
    if kind in (TypeKind.INTEGER, TypeKind.NUMBER, TypeKind.DECIMAL) and literal is not None:
        ordered = st.sampled_from((A.TestOp.GREATER, A.TestOp.GREATER_EQUAL, A.TestOp.LESS,
                                   A.TestOp.LESS_EQUAL))
        yield st.builds(A.Test, ordered, st.just(subject), st.tuples(literal))
        yield st.builds(A.Test, st.just(A.TestOp.BETWEEN), st.just(subject),
                        st.tuples(literal, literal), negated=negated)
        yield st.builds(
            A.Comparison, st.tuples(st.just(subject), literal),
            st.tuples(st.sampled_from(tuple(A.CompareOp))),
        )
    if kind is TypeKind.STRING and literal is not None:
        ops = st.sampled_from((A.TestOp.STARTS_WITH, A.TestOp.ENDS_WITH, A.TestOp.MATCHES,
                               A.TestOp.LIKE, A.TestOp.CONTAINS))
        text = st.builds(A.StringLiteral, _STRINGS)
        yield st.builds(A.Test, ops, st.just(subject), st.tuples(text), negated=negated)
        yield st.builds(
            A.Test, st.just(A.TestOp.IN), st.just(subject),
            st.tuples(st.builds(A.ListLiteral, st.lists(literal, min_size=1, max_size=3)
                                .map(tuple))),
            negated=negated,
        )
    if kind in (TypeKind.DATE, TypeKind.DATETIME):
        clock = st.sampled_from((A.Variable("today"), A.Variable("now")))
        yield st.builds(A.Test, st.sampled_from((A.TestOp.BEFORE, A.TestOp.AFTER)),
                        st.just(subject), st.tuples(clock), negated=negated)
    if kind is TypeKind.STRING:
        regex = st.builds(A.RegexLiteral, st.sampled_from(("^a", "o$", "[0-9]+", "pro|free")),
                          st.sampled_from(("", "i")))
        yield st.builds(A.Test, st.just(A.TestOp.MATCHES), st.just(subject), st.tuples(regex),
                        negated=negated)
    if kind is TypeKind.LIST and type_.element.kind is TypeKind.OBJECT and depth < 2:
        item = A.Variable("item")
        conditions = st.one_of([
            test for field in type_.element.fields
            if not field.virtual and is_identifier(field.name)
            for test in _tests_for(A.Attribute(item, field.name), field.type, depth + 1)
        ])
        yield st.builds(
            A.Quantifier, st.sampled_from((A.QuantifierKind.EVERY, A.QuantifierKind.SOME,
                                           A.QuantifierKind.NO)),
            st.just("item"), st.just(subject), conditions,
        )
        yield st.builds(
            A.Quantifier, st.sampled_from((A.QuantifierKind.AT_LEAST, A.QuantifierKind.AT_MOST,
                                           A.QuantifierKind.EXACTLY)),
            st.just("item"), st.just(subject), conditions,
            count=st.builds(A.IntegerLiteral, st.integers(0, 3)),
        )
    if kind is TypeKind.LIST:
        element = _literal(type_.element)
        if element is not None:
            yield st.builds(A.Test, st.just(A.TestOp.CONTAINS), st.just(subject),
                            st.tuples(element), negated=negated)
        yield st.builds(A.Test, st.just(A.TestOp.EMPTY), st.just(subject), negated=negated)
        count = A.Macro(A.MacroOp.COUNT, subject)
        yield st.builds(
            A.Comparison,
            st.tuples(st.just(count), st.builds(A.IntegerLiteral, st.integers(0, 5))),
            st.tuples(st.sampled_from(tuple(A.CompareOp))),
        )


_EVENT_KINDS = (
    "PAGE_OPENED", "PRODUCT_VIEWED", "ORDER_PLACED", "CART_ABANDONED", "USER_SIGNED_IN",
    "USER_SIGNED_UP", "LINK_OPENED", "POST_VIEWED",
)


def _event_tests() -> st.SearchStrategy[A.Expr]:
    from segmentql.syntax import ast as A

    windows = st.one_of(
        st.none(),
        st.builds(A.EventWindow, st.sampled_from((A.WindowKind.TODAY, A.WindowKind.THIS_WEEK,
                                                  A.WindowKind.THIS_SESSION))),
        st.builds(A.EventWindow, st.just(A.WindowKind.IN_LAST),
                  st.builds(A.DurationLiteral, st.integers(1, 30), st.just(A.DurationUnit.DAY))),
    )
    counts = st.one_of(
        st.none(),
        st.builds(A.EventCount, st.sampled_from(tuple(A.CountOp)),
                  st.builds(A.IntegerLiteral, st.integers(1, 5))),
    )
    return st.builds(
        A.EventTest,
        st.sampled_from([A.EventKind[k] for k in _EVENT_KINDS]),
        negated=st.booleans(),
        count=counts,
        window=windows,
    )


def query_asts(schema: Schema | None = None, *, max_leaves: int = 6) -> st.SearchStrategy[A.Expr]:
    """Boolean query ASTs, well-typed for `schema` (see `queries`)."""
    from segmentql.syntax import ast as A

    resolved = _schema(schema)
    leaves: list[st.SearchStrategy[A.Expr]] = []
    for subject, type_ in _paths(resolved):
        leaves.extend(_tests_for(subject, type_))
    if resolved.variable("events") is not None:
        leaves.append(_event_tests())
    leaf = st.one_of(leaves)

    def combine(children: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
        return st.one_of(
            st.builds(A.Binary, st.sampled_from((A.BinaryOp.AND, A.BinaryOp.OR)),
                      children, children),
            st.builds(A.Unary, st.just(A.UnaryOp.NOT), children),
        )

    return st.recursive(leaf, combine, max_leaves=max_leaves)


def queries(schema: Schema | None = None, *, max_leaves: int = 6) -> st.SearchStrategy[str]:
    """Valid, well-typed boolean queries as text (canonically formatted)."""
    from segmentql.syntax.formatter import format_ast

    return query_asts(schema, max_leaves=max_leaves).map(format_ast)


# ------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------

_TRACKED: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "pageOpened": {"url": st.sampled_from(("/", "/pricing", "/blog?x=1")),
                   "title": _STRINGS},
    "productViewed": {"productId": st.sampled_from(("p1", "p2")), "name": _STRINGS,
                      "price": st.integers(0, 500)},
    "orderPlaced": {"orderId": st.sampled_from(("o1", "o2")), "total": st.integers(0, 900),
                    "currency": st.sampled_from(("EUR", "USD"))},
    "linkOpened": {"link": st.sampled_from(("https://a.example", "/b", "https://a.example/p?q=1#top"))},
    "userSignedIn": {},
    "goalCompleted": {"goalId": st.sampled_from(("g1", "g2"))},
}


def _settable(schema: Schema) -> list[tuple[str, SchemaType]]:
    """(path, type) of user attributes a patch may set: scalar standard attributes and
    declared custom attributes, none managed by the store."""
    from segmentql.schema import TypeKind

    user = schema.variable("user")
    if user is None:
        return []
    scalar = (TypeKind.STRING, TypeKind.INTEGER, TypeKind.NUMBER, TypeKind.BOOLEAN,
              TypeKind.DATE, TypeKind.DATETIME)
    out = []
    custom = user.type.field("custom")
    for spec in user.type.fields:
        if spec.virtual or spec.name in ("id", "stats", "custom"):
            continue
        if spec.type.kind in scalar:
            out.append((spec.name, spec.type))
    if custom is not None:
        for spec in custom.type.fields:
            if spec.type.kind in scalar:
                out.append((f"custom.{spec.name}", spec.type))
    return out


def _operations(schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
    options: list[st.SearchStrategy[dict[str, Any]]] = []
    for path, type_ in _settable(schema):
        value = values_of(type_, nulls=False)
        options.append(st.fixed_dictionaries({
            "op": st.sampled_from(("set", "set_once")), "path": st.just(path), "value": value,
        }))
        options.append(st.just({"op": "unset", "path": path}))
    if not options:
        return st.nothing()
    return st.one_of(options)


def _person() -> st.SearchStrategy[tuple[str, str]]:
    return st.sampled_from((("a1", "u1"), ("a2", "u2")))


def events(
    schema: Schema | None = None, *, max_size: int = 8
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Event sequences (as JSON-like dicts) that a `ProfileStore(schema=schema)` applies
    without error: identify, patch, track and group events for one or two people."""
    resolved = _schema(schema)

    def address(person: tuple[str, str], identified: bool) -> dict[str, str]:
        anonymous, user = person
        return {"user_id": user} if identified else {"anonymous_id": anonymous}

    identify = st.builds(
        lambda person, traits: {"type": "identify", "anonymous_id": person[0],
                                "user_id": person[1], "traits": traits},
        _person(),
        st.fixed_dictionaries({}, optional={
            path: values_of(type_, nulls=False)
            for path, type_ in _settable(resolved)[:4] if "." not in path
        }),
    )
    patch = st.builds(
        lambda person, identified, target, ops: {
            "type": "patch", **address(person, identified), "target": target,
            "operations": ops,
        },
        _person(), st.booleans(), st.just("user"),
        st.lists(_operations(resolved), min_size=1, max_size=3),
    )
    session_patch = st.builds(
        lambda person, value: {
            "type": "patch", "anonymous_id": person[0], "target": "session",
            "operations": [{"op": "set", "path": "custom.step", "value": value}],
        },
        _person(), st.integers(0, 5),
    )
    track = st.sampled_from(sorted(_TRACKED)).flatmap(
        lambda name: st.builds(
            lambda person, identified, properties: {
                "type": "track", **address(person, identified), "event": name,
                "properties": properties,
            },
            _person(), st.booleans(), st.fixed_dictionaries(_TRACKED[name]),
        )
    )
    group = st.builds(
        lambda person, group_id, name: {
            "type": "group", "user_id": person[1], "group_id": group_id,
            "traits": {"name": name},
        },
        _person(), st.sampled_from(("g1", "g2")), _STRINGS,
    )
    one = st.one_of(identify, patch, session_patch, track, group)
    return st.lists(one, min_size=1, max_size=max_size)


# ------------------------------------------------------------------------------------------
# Registration with hypothesis
# ------------------------------------------------------------------------------------------


def _hypothesis_setup_hook() -> None:
    """Register strategies for `st.from_type`: the state event models (`Identify`, `Patch`,
    `Track`, `Group`, `EventBase`) and `Snapshot` (variables of the default catalog)."""
    try:
        from segmentql.state import (
            EventBase,
            Group,
            Identify,
            Patch,
            Snapshot,
            Track,
            parse_event,
        )
    except Exception:
        # This runs inside `import hypothesis`, for every user of hypothesis in the
        # environment: a broken segmentql must not break hypothesis. `from_type` then falls
        # back to hypothesis' own inference, and segmentql's own tests show the import error.
        return

    def models(kind: str) -> st.SearchStrategy[Any]:
        # Deferred: the default schema is loaded on first draw, not when hypothesis imports.
        return st.deferred(
            lambda: events(max_size=4)
            .map(lambda batch: [parse_event(e) for e in batch if e["type"] == kind])
            .filter(bool)
            .map(lambda found: found[0])
        )

    st.register_type_strategy(Identify, models("identify"))
    st.register_type_strategy(Patch, models("patch"))
    st.register_type_strategy(Track, models("track"))
    st.register_type_strategy(Group, models("group"))
    st.register_type_strategy(
        EventBase, st.deferred(lambda: events(max_size=1).map(lambda b: parse_event(b[0])))
    )
    st.register_type_strategy(Snapshot, st.deferred(lambda: profiles().map(Snapshot)))
