"""Checked AST → sqlglot expression trees, with our semantics.

Booleans: a compiled boolean is SQL TRUE/FALSE, and SQL NULL stands for an error value, so
SQL's three-valued `AND`/`OR`/`NOT` are exactly our error absorption (`false and E` is false,
`true or E` is true, anything else touching E is E). A row matches when the value is exactly
TRUE: `COALESCE(x, FALSE)` at the top.

Values: a `Val` is either a constant (any subtree that reads no profile data is evaluated at
compile time by the evaluator itself, with the run's fixed `now` and zone) or a JSON value
read from the layout's columns, with an SQL condition that is TRUE where the value is an
error (reading an attribute of a string, say). Tests compare such a value with constants,
case by JSON kind, each case mirroring `segmentql.runtime.predicates`.

Anything else raises `Unsupported` (diagnostic Q4xx with the node's span).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot.expressions as exp

from segmentql.errors import EvaluationError, QueryError
from segmentql.runtime import predicates as P
from segmentql.runtime.temporal import Duration, shift, window_bounds
from segmentql.runtime.values import is_list, is_number
from segmentql.sql.dialects import (
    FALSE,
    NULL,
    TRUE,
    Dialect,
    and_,
    boolean,
    case,
    coalesce,
    eq,
    fn,
    is_null,
    lit,
    not_,
    num,
    or_,
    paren,
)
from segmentql.sql.layout import PROPERTIES, LayoutStats
from segmentql.syntax import ast as A

#: Profile variables the layout holds, by the column that holds them.
COLUMNS = {"user": "user_data", "session": "session_data", "account": "account_data"}
CLOCK = frozenset({"now", "today", "yesterday", "tomorrow"})
#: Attribute names that are date parts when read from a date string (not compiled).
DATE_PARTS = frozenset({"year", "month", "day", "weekday", "hour", "minute", "second",
                        "millisecond", "microsecond", "week", "quarter", "date", "time",
                        "dayofyear", "dayofweek", "weekofyear", "timezone", "offset"})
_MAX_EXACT = 2**53


class Unsupported(Exception):
    """A construct that cannot be compiled faithfully for the target (code, message, node)."""

    def __init__(self, code: str, message: str, node: A.Node) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.node = node


_NOCONST: Any = object()


@dataclass(frozen=True)
class Val:
    """A compiled non-boolean value: a constant, or JSON `sql` with an error condition."""

    sql: exp.Expression | None = None
    err: exp.Expression | None = None
    const: Any = _NOCONST
    const_error: bool = False
    #: The read path when the value is a profile-level read (hoisted), else None.
    path: str | None = None
    #: The expression a hoisted value stands for (reads nested in it build on this).
    raw: exp.Expression | None = None

    @property
    def is_const(self) -> bool:
        return self.const is not _NOCONST or self.const_error


def _free_names(node: A.Node, bound: frozenset[str] = frozenset()) -> set[str]:
    """Lower-cased names a subtree reads from outside itself (and `events` for event tests)."""
    out: set[str] = set()
    if isinstance(node, A.Variable):
        if node.name.lower() not in bound:
            out.add(node.name.lower())
        return out
    if isinstance(node, A.EventTest):
        out.add("events")
    if isinstance(node, A.Test) and node.op in (A.TestOp.ANONYMOUS, A.TestOp.IDENTIFIED,
                                                A.TestOp.RETURNING, A.TestOp.STARTING):
        out.add("user")
    if isinstance(node, A.Let):
        inner = bound
        for b in node.bindings:
            out |= _free_names(b.value, inner)
            inner = inner | {b.name.lower()}
        return out | _free_names(node.body, inner)
    if isinstance(node, A.Lambda):
        return _free_names(node.body, bound | {p.lower() for p in node.params})
    if isinstance(node, A.Quantifier):
        out |= _free_names(node.collection, bound)
        if node.count is not None:
            out |= _free_names(node.count, bound)
        names = {node.item.lower()} | ({node.index.lower()} if node.index else set())
        return out | _free_names(node.condition, bound | names)
    if isinstance(node, A.Call) and node.function.lower() not in bound:
        out.add(node.function.lower())
    for child in node.children():
        out |= _free_names(child, bound)
    return out


class Hoist:
    """Profile-level reads computed once per row in an inner SELECT, shared by audiences."""

    def __init__(self, table: str = "p") -> None:
        self.table = table
        self.columns: dict[str, tuple[str, exp.Expression]] = {}
        self.events: dict[str, tuple[str, exp.Select]] = {}

    def column(self, key: str, expression: exp.Expression) -> exp.Expression:
        found = self.columns.get(key)
        if found is None:
            found = (f"r{len(self.columns) + 1}", expression)
            self.columns[key] = found
        return exp.column(found[0], table=self.table)

    def events_join(self, conditions: list[exp.Expression], matched: exp.Expression,
                    unknown: exp.Expression, reads: Hoist) -> str:
        """A grouped aggregate over segmentql_events (one row per profile with events that
        may count), LEFT JOINed to the profiles; its alias. `reads` are the event-level
        reads, computed once per event in an inner SELECT."""
        e_id = exp.column("profile_id", table="e")
        source: exp.Expression = exp.Table(this=exp.to_identifier("segmentql_events"),
                                           alias=exp.TableAlias(this=exp.to_identifier("e")))
        if reads.columns:
            inner = exp.select(
                e_id, exp.column(exp.to_identifier("type", quoted=True), table="e"),
                exp.column(exp.to_identifier("timestamp", quoted=True), table="e"),
                exp.column("event", table="e"),
                *(exp.alias_(x, alias) for alias, x in reads.columns.values())).from_(source)
            source = exp.Subquery(this=inner, alias=exp.TableAlias(
                this=exp.to_identifier("e")))
        query = (exp.select(e_id, exp.alias_(matched, "m"), exp.alias_(unknown, "u"))
                 .from_(source)
                 .where(and_(*conditions))
                 .group_by(e_id))
        key = query.sql()
        found = self.events.get(key)
        if found is None:
            found = (f"ev{len(self.events) + 1}", query)
            self.events[key] = found
        return found[0]


class Compiler:
    """Compiles one checked query for one dialect at one fixed clock."""

    def __init__(self, dialect: Dialect, now: dt.datetime, tz: dt.tzinfo,
                 time_zone: str, functions: Mapping[str, Any] | None = None,
                 hoist: Hoist | None = None, stats: LayoutStats | None = None) -> None:
        self.hoist = hoist or Hoist()
        self.scope: dict[str, Val] = {}
        #: Typed (shredded) column references, by id, with their scalar kind.
        self.typed: dict[int, str] = {}
        self.stats = stats
        self.d = dialect
        self.now = now
        self.tz = tz
        self.time_zone = time_zone
        self.functions = functions
        self._fresh = 0

    # --- entry points ------------------------------------------------------------------

    def audience(self, node: A.Expr) -> exp.Expression:
        """The query as a boolean column: TRUE exactly when the row matches."""
        return coalesce(self.boolean(node), FALSE)

    def need(self, feature: str, node: A.Node, what: str) -> None:
        if feature not in self.d.features:
            raise Unsupported("Q401", f"{what} cannot be compiled faithfully for "
                              f"{self.d.name}", node)

    # --- constants ---------------------------------------------------------------------

    def closed(self, node: A.Node) -> bool:
        names = _free_names(node)
        return names <= CLOCK

    def fold(self, node: A.Expr) -> Val:
        """Evaluate a subtree that reads no profile data, with the run's clock."""
        from segmentql.compiler.query import compile_ast

        try:
            query = compile_ast(node, schema=None)
            value = query.evaluate({}, now=self.now, time_zone=self.tz)
        except EvaluationError:
            return Val(sql=NULL, err=TRUE, const_error=True)
        except QueryError as exc:
            raise Unsupported("Q400", f"cannot evaluate this part at compile time: {exc}",
                              node) from None
        return Val(const=value)

    # --- booleans ------------------------------------------------------------------------

    def boolean(self, node: A.Expr) -> exp.Expression:
        """A boolean-position value: TRUE/FALSE, NULL for an error (null counts as false)."""
        if self.closed(node):
            return self.const_truth(self.fold(node), node)
        if isinstance(node, A.Binary) and node.op in (A.BinaryOp.AND, A.BinaryOp.OR):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return and_(left, right) if node.op is A.BinaryOp.AND else or_(left, right)
        if isinstance(node, A.Unary) and node.op is A.UnaryOp.NOT:
            return not_(self.boolean(node.operand))
        if isinstance(node, A.Test):
            return self.test(node)
        if isinstance(node, A.Comparison):
            return self.comparison(node)
        if isinstance(node, A.EventTest):
            self.need("events", node, "event expressions")
            return self.event(node)
        if isinstance(node, A.Quantifier):
            return self.quantifier(node)
        if isinstance(node, A.Let):
            result: exp.Expression = self.let(node, self.boolean)
            return result
        value = self.value(node)
        return self.truth_of(value, node)

    def const_truth(self, value: Val, node: A.Node) -> exp.Expression:
        if value.const_error:
            return NULL
        c = value.const
        if c is None or c is False:
            return FALSE
        if c is True:
            return TRUE
        return NULL  # a non-boolean in a boolean position: Q301 at run time

    def truth_of(self, value: Val, node: A.Node) -> exp.Expression:
        if value.is_const:
            return self.const_truth(value, node)
        j = value.sql
        assert j is not None
        body = case((or_(is_null(j), self.kind_is(j, "null")), FALSE),
                    (self.kind_is(j, "boolean"), self.truth(j)), default=NULL)
        return self.guard(value, body)

    def guard(self, value: Val, body: exp.Expression,
              on_error: exp.Expression = NULL) -> exp.Expression:
        if value.err is None:
            return body
        return case((value.err, on_error), default=body)

    # --- values ------------------------------------------------------------------------

    def value(self, node: A.Expr) -> Val:
        if self.closed(node):
            return self.fold(node)
        if isinstance(node, A.Variable):
            name = node.name.lower()
            if name in self.scope:
                return self.scope[name]
            if name in COLUMNS:
                self.need("json", node, "reading profile data")
                return Val(sql=self.d.json_column(COLUMNS[name]), path=name)
            if name == "events":
                raise Unsupported("Q403", "'events' is read only by event expressions "
                                  "(`user has ...`) in SQL", node)
            raise Unsupported("Q402", f"'{node.name}' is not in the profile layout "
                              "(SQL audiences read user, session, account and events)", node)
        if isinstance(node, A.Attribute):
            return self.attribute(node)
        if isinstance(node, A.Index) and isinstance(node.index, A.StringLiteral):
            return self.read(self.value(node.target), node.index.value, node)
        if isinstance(node, A.Binary) and node.op is A.BinaryOp.FALLBACK:
            return self.fallback(node)
        if isinstance(node, A.Let):
            bound: Val = self.let(node, self.value)
            return bound
        raise Unsupported("Q400", f"{_describe(node)} is not supported in SQL yet", node)

    def let(self, node: A.Let, body: Callable[[A.Expr], Any]) -> Any:
        """`let a = V; body`: bindings are lazy in the evaluator (an unused binding's error
        does not count), so each name stands for its compiled value where it is used."""
        saved = dict(self.scope)
        try:
            for binding in node.bindings:
                if isinstance(binding.value, A.Lambda):
                    raise Unsupported("Q400", "'let' functions are not compiled to SQL yet",
                                      binding)
                self.scope[binding.name.lower()] = self.value(binding.value)
            return body(node.body)
        finally:
            self.scope = saved

    def attribute(self, node: A.Attribute) -> Val:
        target = node.target
        if isinstance(target, A.Variable) and target.name.lower() in COLUMNS:
            base = self.value(target)
            return self.variable_attribute(base, node.name, target.name.lower(), node)
        return self.read(self.value(target), node.name, node)

    def variable_attribute(self, base: Val, name: str, variable: str, node: A.Node) -> Val:
        lowered = name.lower()
        if (variable, lowered) in (("user", "age"), ("user", "name")):
            raise Unsupported("Q404", f"the derived attribute '{name}' of {variable} is "
                              "computed at request time and is not in SQL", node)
        if lowered in DATE_PARTS:
            raise Unsupported("Q404", f"'{name}' may be a date part; date parts are not "
                              "compiled to SQL", node)
        fast = self.shredded_read(base, name, lowered)
        if fast is not None:
            return fast
        d = self.d
        j = base.raw if base.raw is not None else base.sql
        assert j is not None
        custom_raw = d.child(j, "custom")
        custom = case((self.kind_is(custom_raw, "object"), custom_raw))

        def present(x: exp.Expression) -> exp.Expression:
            return case((not_(self.kind_is(x, "null")), x))

        chain = coalesce(
            present(d.child(custom, name)),
            present(d.child_ci(custom, lowered)),
            d.child(j, name),
            d.child_ci(j, lowered),
        )
        body = case((self.kind_is(j, "object"), chain))
        err = not_(or_(is_null(j), self.kind_is(j, "object", "null")))
        if lowered in DATE_PARTS:
            raise Unsupported("Q404", f"'{name}' may be a date part; date parts are not "
                              "compiled to SQL", node)
        path = f"{base.path}.{name!r}"
        return Val(sql=self.hoist.column(path, body), err=err, path=path, raw=body)

    def shredded_read(self, base: Val, name: str, lowered: str) -> Val | None:
        """`V's name` from the typed columns when the data set's statistics prove the JSON
        chain can give nothing else: every V an object (or null), no key spelled differently
        ignoring case, and the key (in `custom` and in V) of one scalar kind."""
        if self.stats is None or base.path is None or base.path not in COLUMNS:
            return None
        stats = self.stats.columns.get(COLUMNS[base.path])
        if stats is None or not stats.objects or not stats.custom_objects:
            return None
        if stats.spellings(True, lowered) - {name} or stats.spellings(False, lowered) - {name}:
            return None
        parts: list[tuple[str, str]] = []
        for in_custom in (True, False):
            present = name in (stats.custom_keys if in_custom else stats.keys)
            if not present:
                continue
            shredded = stats.shredded.get((in_custom, name))
            if shredded is None:
                return None
            parts.append(shredded)
        if not parts:
            return Val(const=None)
        if len({kind for _, kind in parts}) != 1:
            return None
        kind = parts[0][1]
        columns = [exp.column(column, table="p") for column, _ in parts]
        raw = columns[0] if len(columns) == 1 else coalesce(*columns)
        column = self.hoist.column(f"{base.path}.{name!r}:typed", raw)
        self.typed[id(column)] = kind
        return Val(sql=column, path=None)

    def shredded_property(self, name: str) -> Val | None:
        """An event property from its typed column, when the statistics prove it the same."""
        stats = self.stats.columns.get(PROPERTIES) if self.stats is not None else None
        if stats is None or not stats.objects:
            return None
        if stats.spellings(False, name.lower()) - {name}:
            return None
        if name not in stats.keys:
            return Val(const=None)
        shredded = stats.shredded.get((False, name))
        if shredded is None:
            return None
        column_name, kind = shredded
        column = self.hoist.column(f"event.{name!r}:typed", exp.column(column_name, table="e"))
        self.typed[id(column)] = kind
        return Val(sql=column)

    def read(self, target: Val, name: str, node: A.Node) -> Val:
        """`target's name` on a nested value: exact key, then ignoring case."""
        if target.is_const and not target.const_error and target.const is None:
            return Val(const=None)
        if target.is_const:
            raise Unsupported("Q400", "reading an attribute of a constant", node)
        if name.lower() in DATE_PARTS:
            raise Unsupported("Q404", f"'{name}' may be a date part; date parts are not "
                              "compiled to SQL", node)
        if target.sql is not None and id(target.sql) in self.typed:
            # An attribute of a string, number, boolean or list: Q301 unless it is null.
            return Val(sql=NULL, err=not_(is_null(target.sql)))
        if target.path == "event":
            fast = self.shredded_property(name)
            if fast is not None:
                return fast
        d = self.d
        j = target.sql
        assert j is not None
        found = coalesce(d.child(j, name), d.child_ci(j, name.lower()))
        body = case((self.kind_is(j, "object"), found))
        mismatch = not_(or_(is_null(j), self.kind_is(j, "object", "null")))
        err = mismatch if target.err is None else or_(target.err, mismatch)
        if target.path is not None and target.raw is not None:
            raw = target.raw
            raw_found = coalesce(d.child(raw, name), d.child_ci(raw, name.lower()))
            raw_body = case((self.kind_is(raw, "object"), raw_found))
            path = f"{target.path}/{name!r}"
            return Val(sql=self.hoist.column(path, raw_body), err=err, path=path, raw=raw_body)
        return Val(sql=body, err=err)

    def fallback(self, node: A.Binary) -> Val:
        left = self.value(node.left)
        right = self.value(node.right)
        if left.is_const and not left.const_error and left.const is None:
            return right
        if left.is_const or not right.is_const or right.const_error:
            raise Unsupported("Q400", "'??' is compiled only as profile value ?? constant",
                              node)
        j = left.sql
        assert j is not None
        literal = self.json_const(right.const, node.right)
        body = case((or_(is_null(j), self.kind_is(j, "null")), literal), default=j)
        return Val(sql=body, err=left.err)

    def json_const(self, value: Any, node: A.Node) -> exp.Expression:
        if value is None:
            return self.d.json_literal("null")
        if isinstance(value, bool | str) or (isinstance(value, int) and abs(value) <= _MAX_EXACT):
            return self.d.json_literal(json.dumps(value))
        raise Unsupported("Q400", "this constant has no faithful JSON form in SQL", node)

    # --- tests -------------------------------------------------------------------------

    def test(self, node: A.Test) -> exp.Expression:
        op = node.op
        subject_node = node.subject
        if op in (A.TestOp.ANONYMOUS, A.TestOp.IDENTIFIED):
            rewritten: A.Expr = A.Test(A.TestOp.DEFINED,
                                       A.Attribute(subject_node, "id", span=node.span),
                                       span=node.span)
            result = self.test(rewritten)  # type: ignore[arg-type]
            positive = not_(result) if op is A.TestOp.ANONYMOUS else result
            return not_(positive) if node.negated else positive
        if op in (A.TestOp.RETURNING, A.TestOp.STARTING):
            stats = A.Attribute(subject_node, "stats", span=node.span)
            read = A.Attribute(stats, "sessions" if op is A.TestOp.RETURNING else "pageviews",
                               span=node.span)
            cmp = A.TestOp.GREATER if op is A.TestOp.RETURNING else A.TestOp.LESS_EQUAL
            inner = A.Test(cmp, read, (A.IntegerLiteral(1, span=node.span),), span=node.span)
            positive = self.test(inner)
            return not_(positive) if node.negated else positive
        subject = self.value(subject_node)
        args = [self.value(a) for a in node.args]
        swapped = _SWAP.get(op)
        if (subject.is_const and len(args) == 1 and not args[0].is_const
                and swapped is not None and node.mode is None):
            # `1 is in user's list` is `user's list contains 1`; `3 < x` is `x > 3`.
            flipped = A.Test(swapped, node.args[0], (subject_node,), negated=node.negated,
                             span=node.span)
            return self.test(flipped)
        if subject.is_const and all(a.is_const for a in args):
            # Reads the data set's statistics prove absent are null: fold the test.
            def literal(original: A.Expr) -> A.Expr:
                return original if self.closed(original) else A.NullLiteral(span=original.span)

            folded = A.Test(op, literal(subject_node), tuple(literal(a) for a in node.args),
                            negated=node.negated, mode=node.mode, span=node.span)
            return self.const_truth(self.fold(folded), node)
        if subject.is_const:
            raise Unsupported("Q405", "a test of a constant against profile data is not "
                              "compiled to SQL; put the profile value first", node)
        for a, arg_node in zip(args, node.args, strict=True):
            if not a.is_const:
                raise Unsupported("Q405", "comparing two profile values is not compiled to "
                                  "SQL; compare a profile value with a constant", arg_node)
        result = NULL if any(a.const_error for a in args) else self.json_test(
            node, subject, [a.const for a in args])
        return not_(result) if node.negated else result

    def json_test(self, node: A.Test, subject: Val, args: list[Any]) -> exp.Expression:
        op, mode = node.op, node.mode
        d = self.d
        j = subject.sql
        assert j is not None
        if op is A.TestOp.DEFINED:
            return self.guard(subject, not_(or_(is_null(j), self.kind_is(j, "null"))), FALSE)
        if op is A.TestOp.EMPTY:
            body = case(
                (or_(is_null(j), self.kind_is(j, "null")), TRUE),
                (self.kind_is(j, "string"), eq(self.text(j), lit(""))),
                (self.kind_is(j, "array", "object"), eq(self.size(j), num(0))),
                default=FALSE,
            )
            self.need("elements", node, "'is empty' on lists and maps")
            return self.guard(subject, body)
        if op is A.TestOp.EQUAL:
            if mode not in (None, A.CompareMode.IGNORING_CASE, A.CompareMode.IGNORING_FRACTION):
                raise Unsupported("Q406", f"'{mode}' is not compiled to SQL", node)
            return self.guard(subject, self.equal(j, args[0], mode, node))
        if op in _ORDER:
            return self.guard(subject, self.order(j, _ORDER[op], args[0], node))
        if op is A.TestOp.BETWEEN:
            low = self.order(j, ">=", args[0], node)
            high = self.order(j, "<=", args[1], node)
            return self.guard(subject, and_(low, high))
        if op in (A.TestOp.STARTS_WITH, A.TestOp.ENDS_WITH, A.TestOp.LIKE) or (
                op is A.TestOp.MATCHES and not isinstance(node.args[0], A.RegexLiteral)):
            return self.guard(subject, self.string_test(j, op, args[0], node))
        if op is A.TestOp.MATCHES:
            regex = node.args[0]
            assert isinstance(regex, A.RegexLiteral)
            self.need("regex", regex, "a regular expression (RE2)")
            flags = f"(?{regex.flags})" if regex.flags else ""
            body = case((or_(is_null(j), self.kind_is(j, "null")), FALSE),
                        (self.kind_is(j, "string"), d.regex_search(self.text(j), flags + regex.pattern)),
                        default=NULL)
            return self.guard(subject, body)
        if op is A.TestOp.CONTAINS:
            return self.guard(subject, self.contains(j, args[0], node))
        if op is A.TestOp.IN:
            return self.guard(subject, self.is_in(j, args[0], node))
        if op in (A.TestOp.CONTAINS_ALL, A.TestOp.CONTAINS_EITHER, A.TestOp.CONTAINS_NONE):
            return self.guard(subject, self.shared(j, op, args[0], node))
        raise Unsupported("Q400", f"the test '{op.value}' is not compiled to SQL yet", node)

    # kind helpers

    def nullish(self, j: exp.Expression) -> exp.Expression:
        if id(j) in self.typed:
            return is_null(j)
        return or_(is_null(j), self.kind_is(j, "null"))

    # JSON kinds and values, or the static kind of a typed (shredded) column

    def kind_is(self, j: exp.Expression, *kinds: str) -> exp.Expression:
        kind = self.typed.get(id(j))
        if kind is None:
            return self.d.kind_is(j, *kinds)
        kind = "array" if kind == "strings" else kind
        if "null" in kinds and kind in kinds:
            return TRUE
        if "null" in kinds:
            return is_null(j)
        if kind in kinds:
            return not_(is_null(j))
        return FALSE

    def text(self, j: exp.Expression) -> exp.Expression:
        return j if id(j) in self.typed else self.d.text(j)

    def size(self, j: exp.Expression) -> exp.Expression:
        if self.typed.get(id(j)) == "strings":
            return fn("len", j)
        return self.d.size(j)

    def count_elements(self, j: exp.Expression, var: str,
                       predicate: exp.Expression) -> exp.Expression:
        if self.typed.get(id(j)) == "strings":
            kept = fn("list_filter", j, exp.Lambda(this=predicate,
                                                   expressions=[exp.to_identifier(var)]))
            return coalesce(fn("len", kept), num(0))
        return self.d.count_elements(j, var, predicate)

    def number(self, j: exp.Expression) -> exp.Expression:
        return j if id(j) in self.typed else self.d.number(j)

    def truth(self, j: exp.Expression) -> exp.Expression:
        return j if id(j) in self.typed else self.d.truth(j)

    def number_const(self, c: Any, node: A.Node) -> exp.Expression:
        if isinstance(c, int) and not isinstance(c, bool):
            if abs(c) > _MAX_EXACT:
                raise Unsupported("Q407", "integers beyond 2**53 are not exact in SQL "
                                  "doubles", node)
            return num(c)
        if isinstance(c, float | decimal.Decimal):
            as_float = float(c)
            if as_float != as_float or as_float in (float("inf"), float("-inf")):
                raise Unsupported("Q407", "non-finite numbers are not compiled to SQL", node)
            if decimal.Decimal(repr(as_float)) != decimal.Decimal(str(c)):
                raise Unsupported("Q407", f"the number {c} is not exact as an SQL double",
                                  node)
            return num(repr(as_float))
        raise AssertionError(c)

    def scalar_member(self, e: exp.Expression, c: Any, node: A.Node) -> exp.Expression:
        """`e` (JSON) equals the scalar constant `c` (values_equal), as SQL TRUE/FALSE."""
        if c is None:
            return self.nullish(e)
        if isinstance(c, bool):
            test = and_(self.kind_is(e, "boolean"), eq(self.truth(e), boolean(c)))
        elif is_number(c):
            test = and_(self.kind_is(e, "number"), eq(self.number(e), self.number_const(c, node)))
        elif isinstance(c, str):
            test = and_(self.kind_is(e, "string"), eq(self.text(e), lit(c)))
        else:
            test = NULL
        if test is not NULL:
            return case((self.nullish(e), FALSE), default=test)
        raise Unsupported("Q408", "comparing with a list, map, date or duration constant is "
                          "not compiled to SQL", node)

    def equal(self, j: exp.Expression, c: Any, mode: A.CompareMode | None,
              node: A.Node) -> exp.Expression:
        d = self.d
        if mode is A.CompareMode.IGNORING_CASE and isinstance(c, str):
            return case((self.nullish(j), FALSE), default=and_(
                self.kind_is(j, "string"), eq(d.lower(self.text(j)), lit(c.lower()))))
        if mode is A.CompareMode.IGNORING_FRACTION and is_number(c):
            return case((self.nullish(j), FALSE), default=and_(
                self.kind_is(j, "number"), eq(d.trunc(self.number(j)), num(int(P._trunc(c))))))
        return self.scalar_member(j, c, node)

    def order(self, j: exp.Expression, sym: str, c: Any, node: A.Node) -> exp.Expression:
        if c is None:
            return FALSE
        ops: dict[str, Callable[..., exp.Expression]] = {
            "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
        build = ops[sym]
        if is_number(c):
            value = build(this=self.number(j), expression=self.number_const(c, node))
            return case((self.nullish(j), FALSE), (self.kind_is(j, "number"), value),
                        default=NULL)
        if isinstance(c, str):
            value = build(this=self.text(j), expression=lit(c))
            return case((self.nullish(j), FALSE), (self.kind_is(j, "string"), value),
                        default=NULL)
        raise Unsupported("Q408", "ordering against a date, time or duration is not "
                          "compiled to SQL", node)

    def string_test(self, j: exp.Expression, op: A.TestOp, c: Any,
                    node: A.Node) -> exp.Expression:
        d = self.d
        if c is None:
            return FALSE
        if not isinstance(c, str):
            return case((self.nullish(j), FALSE), default=NULL)
        t = self.text(j)
        if op is A.TestOp.STARTS_WITH:
            test = eq(fn("left", t, num(len(c))), lit(c))
        elif op is A.TestOp.ENDS_WITH:
            test = TRUE if c == "" else eq(fn("right", t, num(len(c))), lit(c))
        elif op is A.TestOp.LIKE:
            test = TRUE if c == "" else d.contains_text(d.lower(t), lit(c.casefold()))
        else:
            test = TRUE if c == "" else d.contains_text(t, lit(c))
        return case((self.nullish(j), FALSE), (self.kind_is(j, "string"), test), default=NULL)

    def members_of(self, c: Any, node: A.Node) -> list[Any] | None:
        if isinstance(c, Mapping):
            return list(c.values())
        if is_list(c):
            return list(c)
        return None

    def has_member(self, j: exp.Expression, c: Any, node: A.Node) -> exp.Expression:
        """Some element (array) or value (object) of JSON `j` equals scalar `c`."""
        if c is None:
            return FALSE
        var = self.fresh()
        e = exp.column(var)
        self.need("elements", node, "collection tests on profile lists")
        if self.typed.get(id(j)) == "strings":
            self.typed[id(e)] = "string"
        return exp.GT(this=self.count_elements(j, var, self.scalar_member(e, c, node)),
                      expression=num(0))

    def contains(self, j: exp.Expression, c: Any, node: A.Node) -> exp.Expression:
        d = self.d
        if c is None:
            return FALSE
        text_case: exp.Expression
        if isinstance(c, str):
            text_case = TRUE if c == "" else d.contains_text(self.text(j), lit(c))
        else:
            text_case = NULL
        return case((self.nullish(j), FALSE), (self.kind_is(j, "string"), text_case),
                    (self.kind_is(j, "array", "object"), self.has_member(j, c, node)),
                    default=NULL)

    def is_in(self, j: exp.Expression, c: Any, node: A.Node) -> exp.Expression:
        d = self.d
        if isinstance(c, str):
            inner = d.contains_text(lit(c), self.text(j))
            return case((self.nullish(j), FALSE), (self.kind_is(j, "string"), inner),
                        default=NULL)
        members = [] if c is None else self.members_of(c, node)
        if members is None:
            return case((self.nullish(j), FALSE), default=NULL)
        tests = [self.scalar_member(j, m, node) for m in members if m is not None]
        any_equal = or_(*tests) if tests else FALSE
        return case((self.nullish(j), FALSE), default=any_equal)

    def shared(self, j: exp.Expression, op: A.TestOp, c: Any, node: A.Node) -> exp.Expression:
        wanted = self.members_of(c, node)
        if wanted is None:
            wanted = [c]
        tests = [self.has_member(j, w, node) for w in wanted]
        if op is A.TestOp.CONTAINS_ALL:
            body = and_(*tests) if tests else TRUE
        else:
            either = or_(*tests) if tests else FALSE
            body = either if op is A.TestOp.CONTAINS_EITHER else not_(either)
        on_null = {A.TestOp.CONTAINS_ALL: P.contains_all, A.TestOp.CONTAINS_EITHER:
                   P.contains_either, A.TestOp.CONTAINS_NONE: P.contains_none}[op](None, c)
        return case((self.nullish(j), boolean(on_null if isinstance(on_null, bool) else None)),
                    (self.kind_is(j, "array", "object"), body), default=NULL)

    def fresh(self) -> str:
        self._fresh += 1
        return f"x{self._fresh}"

    # --- quantifiers -------------------------------------------------------------------

    def quantifier(self, node: A.Quantifier) -> exp.Expression:
        if node.index is not None or node.distinct:
            raise Unsupported("Q400", "'indexed by' and 'distinct' quantifiers are not "
                              "compiled to SQL yet", node)
        self.need("elements", node, "quantifiers over profile lists")
        collection = self.value(node.collection)
        if collection.is_const and not collection.const_error and collection.const is None:
            folded = A.Quantifier(node.kind, node.item, A.NullLiteral(span=node.span),
                                  node.condition, node.index, node.count, node.distinct,
                                  span=node.span)
            if self.closed(folded):
                return self.const_truth(self.fold(folded), node)
        if collection.is_const:
            raise Unsupported("Q400", "a quantifier over a constant with a profile "
                              "condition is not compiled to SQL yet", node)
        count: int | None = None
        if node.count is not None:
            c = self.value(node.count)
            if not c.is_const or c.const_error or not isinstance(c.const, int) or isinstance(
                    c.const, bool):
                raise Unsupported("Q405", "a quantifier count must be an integer constant",
                                  node.count)
            count = c.const
        j = collection.sql
        assert j is not None
        var = self.fresh()
        item = exp.column(var)
        name = node.item.lower()
        saved = self.scope.get(name)
        self.scope[name] = Val(sql=item)
        if self.typed.get(id(j)) == "strings":
            self.typed[id(item)] = "string"
        try:
            cond = self.boolean(node.condition)
        finally:
            if saved is None:
                self.scope.pop(name, None)
            else:
                self.scope[name] = saved
        true_n = self.count_elements(j, var, exp.Is(this=paren(cond), expression=TRUE))
        err_n = self.count_elements(j, var, is_null(cond))
        false_n = self.count_elements(j, var, exp.Is(this=paren(cond), expression=FALSE))
        has_err = exp.GT(this=err_n, expression=num(0))
        kind = node.kind
        if kind is A.QuantifierKind.EVERY:
            body = case((exp.GT(this=false_n, expression=num(0)), FALSE), (has_err, NULL),
                        default=TRUE)
        elif kind in (A.QuantifierKind.SOME, A.QuantifierKind.NO):
            some = case((exp.GT(this=true_n, expression=num(0)), TRUE), (has_err, NULL),
                        default=FALSE)
            body = some if kind is A.QuantifierKind.SOME else not_(some)
        else:
            assert count is not None
            n = num(count)
            if kind is A.QuantifierKind.AT_LEAST:
                body = case((exp.GTE(this=true_n, expression=n), TRUE), (has_err, NULL),
                            default=FALSE)
            elif kind is A.QuantifierKind.AT_MOST:
                body = case((exp.GT(this=true_n, expression=n), FALSE), (has_err, NULL),
                            default=TRUE)
            else:
                body = case((exp.GT(this=true_n, expression=n), FALSE), (has_err, NULL),
                            default=eq(true_n, n))
        return self.guard(collection, case(
            (self.nullish(j), boolean(kind in (A.QuantifierKind.EVERY, A.QuantifierKind.NO,
                                               A.QuantifierKind.AT_MOST)
                                      or (kind is A.QuantifierKind.EXACTLY and count == 0)
                                      or (kind is A.QuantifierKind.AT_LEAST and count is not None
                                          and count <= 0))),
            (self.kind_is(j, "array", "object"), body), default=NULL))

    # --- comparisons -------------------------------------------------------------------

    def comparison(self, node: A.Comparison) -> exp.Expression:
        if len(node.ops) == 2:
            # `a < b <= c`: the middle once, short-circuit from the left.
            a, b, c = node.operands
            first = self.comparison(A.Comparison((a, b), node.ops[:1], span=node.span))
            second = self.comparison(A.Comparison((b, c), node.ops[1:], span=node.span))
            return case((is_null(first), NULL), (not_(first), FALSE), default=second)
        if len(node.ops) != 1:
            raise Unsupported("Q400", "comparison chains are not compiled to SQL yet", node)
        (op,) = node.ops
        left, right = node.operands
        mapped = {A.CompareOp.EQ: A.TestOp.EQUAL, A.CompareOp.NE: A.TestOp.EQUAL,
                  A.CompareOp.LT: A.TestOp.LESS, A.CompareOp.LE: A.TestOp.LESS_EQUAL,
                  A.CompareOp.GT: A.TestOp.GREATER, A.CompareOp.GE: A.TestOp.GREATER_EQUAL}
        if self.closed(left) and not self.closed(right):
            flipped = {A.CompareOp.LT: A.CompareOp.GT, A.CompareOp.LE: A.CompareOp.GE,
                       A.CompareOp.GT: A.CompareOp.LT, A.CompareOp.GE: A.CompareOp.LE}
            op = flipped.get(op, op)
            left, right = right, left
        test = A.Test(mapped[op], left, (right,), negated=op is A.CompareOp.NE,
                      span=node.span)
        return self.test(test)

    # --- event expressions -------------------------------------------------------------

    def event(self, node: A.EventTest) -> exp.Expression:
        kind = node.event
        if kind is A.EventKind.PRODUCT_ORDERED:
            raise Unsupported("Q409", "'ordered a product' (items of orders) is not compiled "
                              "to SQL yet", node)
        if kind is A.EventKind.LINK_OPENED and node.criteria is not None and any(
                isinstance(c, A.Criterion) and c.path and c.path[0].lower() in _LINK_PARTS
                for c in node.criteria.walk()):
            raise Unsupported("Q409", "a link's path, query and anchor are derived from its "
                              "URL at request time and are not compiled to SQL", node.criteria)
        if kind is A.EventKind.INTEREST_SHOWN and node.determiner not in (
                None, A.TopicDeterminer.ANY, A.TopicDeterminer.EITHER):
            raise Unsupported("Q409", f"'shown interest in {node.determiner}' is not "
                              "compiled to SQL yet", node)
        profile_reads = self.hoist
        self.hoist = Hoist("e")
        try:
            return self.event_in(node, profile_reads)
        finally:
            self.hoist = profile_reads

    def event_in(self, node: A.EventTest, profile_reads: Hoist) -> exp.Expression:
        kind = node.event
        d = self.d
        e_props_raw = d.child(exp.column("event", table="e"), "properties")
        props = Val(sql=e_props_raw, path="event", raw=e_props_raw)
        conditions: list[exp.Expression] = [
            eq(exp.column(exp.to_identifier("type", quoted=True), table="e"), lit(kind.value))]
        argument = self.value(node.argument) if node.argument is not None else None
        if argument is not None and not argument.is_const:
            raise Unsupported("Q405", "an event argument must be a constant in SQL",
                              node.argument or node)
        if argument is not None and argument.const_error:
            return NULL
        arg = argument.const if argument is not None else None
        key = {A.EventKind.EVENT_OCCURRED: "name", A.EventKind.GOAL_COMPLETED: "goalId",
               A.EventKind.LINK_OPENED: "link"}
        if kind in key and arg is not None:
            got = self.read(props, key[kind], node)
            # A key no event has (by the statistics) never equals a non-null argument.
            conditions.append(FALSE if got.sql is None else
                              self.scalar_member(got.sql, arg, node))
        if kind is A.EventKind.INTEREST_SHOWN and arg is not None:
            topics = self.read(props, "interests", node)
            wanted = arg if is_list(arg) else [arg]
            if topics.sql is None:
                conditions.append(FALSE)  # no event has interests: none is relevant
            else:
                rel = self.shared(topics.sql, A.TestOp.CONTAINS_EITHER, list(wanted), node)
                conditions.append(coalesce(rel, FALSE))
        criteria: exp.Expression = TRUE
        if node.criteria is not None:
            criteria = self.criteria(node.criteria, props)
        times = 1
        count_op = A.CountOp.AT_LEAST
        if node.count is not None:
            count_op = node.count.op
            t = self.value(node.count.times)
            if not t.is_const:
                raise Unsupported("Q405", "an event count must be a constant in SQL",
                                  node.count)
            if t.const_error:
                return NULL
            tv = t.const
            if tv is None:
                tv = 1
            if not isinstance(tv, int) or isinstance(tv, bool) or tv < 0:
                return NULL
            times = tv
        ts = exp.column(exp.to_identifier("timestamp", quoted=True), table="e")
        sure: exp.Expression = TRUE
        doubtful: exp.Expression = FALSE
        if node.window is not None:
            bounds = self.window(node.window)
            if bounds is None:
                return NULL
            start, end, inclusive = bounds
            upper = (exp.LTE if inclusive else exp.LT)(this=ts, expression=d.timestamp(end))
            sure = and_(exp.GTE(this=ts, expression=d.timestamp(start)), upper)
            doubtful = is_null(ts)
            conditions.append(or_(sure, doubtful))

        def count_where(cond: exp.Expression) -> exp.Expression:
            return exp.Count(this=case((cond, num(1))))

        matched_sql = count_where(and_(sure, exp.Is(this=paren(criteria), expression=TRUE)))
        unknown_sql = count_where(or_(
            and_(sure, is_null(criteria)),
            and_(doubtful, not_(exp.Is(this=paren(criteria), expression=FALSE)))))
        alias = profile_reads.events_join(conditions, matched_sql, unknown_sql, self.hoist)
        low = coalesce(exp.column("m", table=alias), num(0))
        unknown = coalesce(exp.column("u", table=alias), num(0))
        high = exp.Add(this=low, expression=unknown)
        t_sql = num(times)
        if count_op is A.CountOp.EXACTLY:
            decided = case((not_(and_(exp.LTE(this=low, expression=t_sql),
                                      exp.LTE(this=t_sql, expression=high))), FALSE),
                           (eq(unknown, num(0)), TRUE), default=NULL)
        elif count_op is A.CountOp.AT_MOST:
            decided = case((exp.LTE(this=high, expression=t_sql), TRUE),
                           (exp.GT(this=low, expression=t_sql), FALSE), default=NULL)
        else:
            decided = case((exp.GTE(this=low, expression=t_sql), TRUE),
                           (exp.LT(this=high, expression=t_sql), FALSE), default=NULL)
        return not_(decided) if node.negated else decided

    def window(self, window: A.EventWindow) -> tuple[str, str, bool] | None:
        kind = window.kind
        if kind in (A.WindowKind.THIS_SESSION, A.WindowKind.LAST_SESSION):
            raise Unsupported("Q409", f"the window '{kind.value}' is not compiled to SQL yet",
                              window)
        if kind is A.WindowKind.IN_LAST:
            if window.duration is None:
                return None
            duration = self.value(window.duration)
            if duration.const_error or not isinstance(duration.const, Duration):
                return None
            from segmentql.compiler.query import with_clock

            try:
                start = with_clock(self.now, self.tz, shift, self.now, -duration.const)
            except (OverflowError, ValueError):
                return None
            assert isinstance(start, dt.datetime)
            return _iso(start), _iso(self.now), True
        start, end = window_bounds(kind.value, self.now, self.tz)
        return _iso(start), _iso(end), False

    def criteria(self, node: A.Criteria, props: Val) -> exp.Expression:
        if isinstance(node, A.CriteriaGroup):
            items = [self.criteria(i, props) for i in node.items]
            return and_(*items) if node.join is A.CriteriaJoin.AND else or_(*items)
        value = self.value(node.value)
        if not value.is_const:
            raise Unsupported("Q405", "a criterion compares with a constant in SQL", node.value)
        if value.const_error:
            return NULL
        got = props
        for name in node.path:
            got = self.read(got, name, node)
        op = _CRITERIA[node.op]
        fake = A.Test(op, A.NullLiteral(span=node.span), (node.value,), span=node.span)
        if got.is_const:
            # A property no event has (by the statistics): the criterion on null.
            return self.const_truth(self.fold(fake), node)
        return self.json_test(fake, got, [value.const])


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


_LINK_PARTS = frozenset({"path", "query", "anchor"})

_SWAP = {A.TestOp.IN: A.TestOp.CONTAINS, A.TestOp.EQUAL: A.TestOp.EQUAL,
         A.TestOp.GREATER: A.TestOp.LESS, A.TestOp.LESS: A.TestOp.GREATER,
         A.TestOp.GREATER_EQUAL: A.TestOp.LESS_EQUAL, A.TestOp.LESS_EQUAL: A.TestOp.GREATER_EQUAL}

_ORDER = {A.TestOp.GREATER: ">", A.TestOp.GREATER_EQUAL: ">=", A.TestOp.LESS: "<",
          A.TestOp.LESS_EQUAL: "<="}

_CRITERIA = {
    A.CriterionOp.EQUAL: A.TestOp.EQUAL,
    A.CriterionOp.GREATER: A.TestOp.GREATER,
    A.CriterionOp.GREATER_EQUAL: A.TestOp.GREATER_EQUAL,
    A.CriterionOp.LESS: A.TestOp.LESS,
    A.CriterionOp.LESS_EQUAL: A.TestOp.LESS_EQUAL,
    A.CriterionOp.STARTING: A.TestOp.STARTS_WITH,
    A.CriterionOp.ENDING: A.TestOp.ENDS_WITH,
    A.CriterionOp.LIKE: A.TestOp.LIKE,
    A.CriterionOp.IN: A.TestOp.IN,
    A.CriterionOp.CONTAINING: A.TestOp.CONTAINS,
    A.CriterionOp.CONTAINING_ALL: A.TestOp.CONTAINS_ALL,
    A.CriterionOp.CONTAINING_NONE: A.TestOp.CONTAINS_NONE,
    A.CriterionOp.CONTAINING_EITHER: A.TestOp.CONTAINS_EITHER,
    A.CriterionOp.CONTAINING_NEITHER: A.TestOp.CONTAINS_NONE,
}


def _describe(node: A.Node) -> str:
    name = type(node).__name__
    words = {"Quantifier": "a quantifier", "Macro": "a collection macro", "Let": "'let'",
             "Call": "a function call", "Binary": "arithmetic on profile data",
             "Unary": "arithmetic on profile data", "Cast": "a cast of profile data",
             "Conditional": "a conditional on profile data", "Index": "an index",
             "ChangeCase": "a case change", "Round": "rounding", "Sort": "sorting",
             "WithoutDuplicates": "'without duplicates'", "UnitsBetween": "'number of ... "
             "between'", "AtTime": "'at' on profile data", "Lambda": "a function"}
    return words.get(name, name)

