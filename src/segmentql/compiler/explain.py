"""`Query.explain`: the value of every clause, where it is, and what it read.

Built from a run of the tracing rendering of the query (every node reports its value), so
the values shown are the values the evaluator computed, not a re-interpretation.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from segmentql.diagnostics import Diagnostic, Severity, Span
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.events import EventReport
from segmentql.runtime.values import is_list, is_map, to_text
from segmentql.syntax import ast as A

if TYPE_CHECKING:
    from segmentql.compiler.query import Query

_NOT_RUN: Any = type("NotRun", (), {"__repr__": lambda self: "<not evaluated>"})()


@dataclass(frozen=True)
class Read:
    """An attribute the query read, and the value it found (null when absent)."""

    text: str
    span: Span
    value: Any

    def to_json(self) -> dict[str, Any]:
        from segmentql.compiler.query import json_value

        return {"text": self.text, "span": self.span.to_json(), "value": json_value(self.value)}


@dataclass(frozen=True)
class Clause:
    """A test, comparison, event expression, quantifier or logical operator, with its value.

    `evaluated` is False for clauses skipped by short-circuiting.
    """

    text: str
    span: Span
    kind: str
    value: Any
    evaluated: bool
    reads: tuple[Read, ...] = ()
    depth: int = 0
    #: For an event expression: its window, the events of its type and the count.
    events: EventsConsidered | None = None

    @property
    def error(self) -> ErrorValue | None:
        return self.value if isinstance(self.value, ErrorValue) else None

    def to_json(self) -> dict[str, Any]:
        from segmentql.compiler.query import json_value

        return {
            "text": self.text,
            "kind": self.kind,
            "span": self.span.to_json(),
            "evaluated": self.evaluated,
            "value": json_value(self.value) if self.evaluated else None,
            "reads": [r.to_json() for r in self.reads],
            **({} if self.events is None else {"events": self.events.to_json()}),
        }


@dataclass(frozen=True)
class CriterionValue:
    """One criterion (`url like "pricing"`) and its value on one event."""

    text: str
    span: Span
    value: Any

    def to_json(self) -> dict[str, Any]:
        from segmentql.compiler.query import json_value

        return {"text": self.text, "span": self.span.to_json(), "value": json_value(self.value)}


@dataclass(frozen=True)
class EventConsidered:
    """An event of the expression's type: where it is in `events`, when, and what it gave.

    `status` is "matched", "not matched", "error", "outside the window", "another session",
    "another name" or "no timestamp" ("considered" for `shown interest in all of|none of|
    neither`, which compares the interests shown, not a count); `item` is the order item for
    `ordered a product`."""

    index: int
    timestamp: dt.datetime | None
    status: str
    item: int | None
    criteria: tuple[CriterionValue, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "timestamp": None if self.timestamp is None else self.timestamp.isoformat(),
            "status": self.status,
            "item": self.item,
            "criteria": [c.to_json() for c in self.criteria],
        }

    def render(self) -> str:
        where = f"events[{self.index}]" + ("" if self.item is None else f" item {self.item}")
        when = "" if self.timestamp is None else f" at {_instant(self.timestamp)}"
        tested = ", ".join(f"{c.text} => {show(c.value)}" for c in self.criteria)
        return f"{where}{when}: {self.status}" + (f" ({tested})" if tested else "")


@dataclass(frozen=True)
class EventsConsidered:
    """What an event expression did: the window it looked in (bounds as instants; `session`
    for `this session`/`last session`), every event of its type, and the count test."""

    event_type: str
    window: str | None
    start: dt.datetime | None
    end: dt.datetime | None
    session: Any
    events: tuple[EventConsidered, ...]
    count_op: str
    times: Any
    matched: int
    unknown: int
    #: `shown interest in all of|none of|neither`: the interests shown and the topics wanted.
    interests: tuple[Any, ...] | None = None
    wanted: tuple[Any, ...] | None = None
    determiner: str | None = None

    @property
    def considered(self) -> tuple[EventConsidered, ...]:
        """The events inside the window (the ones the criteria were tested on)."""
        return tuple(e for e in self.events
                     if e.status not in ("outside the window", "another session"))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.event_type,
            "window": self.window,
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "session": self.session,
            "events": [e.to_json() for e in self.events],
            "count": {"op": self.count_op, "times": self.times, "matched": self.matched,
                      "unknown": self.unknown},
            **({} if self.interests is None else {
                "interests": list(self.interests), "wanted": list(self.wanted or ()),
                "determiner": self.determiner}),
        }

    def render(self) -> list[str]:
        if self.window is None:
            window = "any time"
        elif self.session is not None or self.window in ("this session", "last session"):
            window = f"{self.window} (session {show(self.session)})"
        else:
            window = self.window
        if self.start is not None and self.end is not None:
            window += f", from {_instant(self.start)} to {_instant(self.end)}"
        lines = [f"events of type {self.event_type!r} ({window}): "
                 f"{len(self.considered)} in the window, {len(self.events)} in all"]
        lines += [e.render() for e in self.events]
        if self.interests is not None:
            lines.append(f"interests shown: {show(list(self.interests))}, needs "
                         f"{self.determiner} {show(list(self.wanted or ()))}")
            return lines
        unknown = f" (+{self.unknown} undecided)" if self.unknown else ""
        lines.append(f"count: {self.matched} matched{unknown}, needs {self.count_op} "
                     f"{show(self.times)}")
        return lines


def _instant(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass
class Explanation:
    """Why a query gave its result on one set of variables."""

    query: str
    value: Any
    clauses: list[Clause] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    #: The clause whose value decided the result (e.g. the false operand of an `and`).
    deciding: Clause | None = None

    @property
    def matched(self) -> bool:
        return self.value is True

    @property
    def error(self) -> ErrorValue | None:
        return self.value if isinstance(self.value, ErrorValue) else None

    def error_diagnostic(self) -> Diagnostic | None:
        """The run-time error as a diagnostic (render it with `render_all`): its span, and
        as notes the values read inside it, so the message shows what was wrong."""
        error = self.error
        if error is None:
            return None
        span = error.span
        inside = [r for r in self.reads
                  if span.start <= r.span.start and r.span.end <= span.end] if (
            span.end > span.start) else []
        notes = tuple(f"{r.text} is {show(r.value)}" for r in inside)
        return Diagnostic(error.code, Severity.ERROR, error.message, span, notes=notes)

    def to_json(self) -> dict[str, Any]:
        from segmentql.compiler.query import json_value

        return {
            "query": self.query,
            "value": json_value(self.value),
            "matched": self.matched,
            "deciding": None if self.deciding is None else self.deciding.to_json(),
            "clauses": [c.to_json() for c in self.clauses],
            "reads": [r.to_json() for r in self.reads],
        }

    def render(self) -> str:
        """The query, then each clause with carets under it, its value and its reads."""
        lines = [f"query: {self.query}", f"result: {show(self.value)}"
                 + (" (match)" if self.matched else " (no match)")]
        source_lines = self.query.split("\n")
        for clause in self.clauses:
            marker = "  <- decided the result" if clause is self.deciding else ""
            value = show(clause.value) if clause.evaluated else "not evaluated"
            lines.append("")
            lines.append(f"{'  ' * clause.depth}{clause.text}  =>  {value}{marker}")
            if clause.span.end > clause.span.start and clause.span.line == clause.span.end_line:
                src = source_lines[clause.span.line - 1] if source_lines else ""
                lines.append(f"    | {src}")
                width = max(1, clause.span.end_column - clause.span.column)
                lines.append(f"    | {' ' * (clause.span.column - 1)}{'^' * width}")
            for read in clause.reads:
                lines.append(f"    reads {read.text} = {show(read.value)}")
            if clause.events is not None:
                lines += [f"    {line}" for line in clause.events.render()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


#: Rendering limits: explanations show data, and data may be huge, deep or cyclic.
SHOW_DEPTH = 8
SHOW_ITEMS = 20
SHOW_CHARS = 200


def show(value: Any) -> str:
    """A value as a query literal would write it, shortened: texts past 200 characters,
    collections past 20 items or 8 levels, and cycles are elided with `…`."""
    return _show(value, 0, set())


def _show(value: Any, depth: int, seen: set[int]) -> str:
    if isinstance(value, ErrorValue):
        return f"error {value.code}: {value.message}"
    if value is None:
        return "null"
    if isinstance(value, str):
        if len(value) > SHOW_CHARS:
            return json.dumps(value[:SHOW_CHARS], ensure_ascii=False)[:-1] + '…"'
        return json.dumps(value, ensure_ascii=False)
    if is_map(value) or (is_list(value) and not isinstance(value, str | bytes)):
        if depth >= SHOW_DEPTH or id(value) in seen:
            return "[…]"
        seen = seen | {id(value)}
        try:
            if is_map(value):
                pairs = list(islice(value.items(), SHOW_ITEMS + 1))
                parts = [f"{_show(str(k), depth + 1, seen)}: {_show(v, depth + 1, seen)}"
                         for k, v in pairs[:SHOW_ITEMS]]
                empty = "[:]"
            else:
                items = list(islice(iter(value), SHOW_ITEMS + 1))
                parts = [_show(v, depth + 1, seen) for v in items[:SHOW_ITEMS]]
                pairs = items
                empty = "[]"
        except Exception:
            return f"<{type(value).__name__}>"
        if len(pairs) > SHOW_ITEMS:
            parts.append("…")
        return "[" + ", ".join(parts) + "]" if parts else empty
    try:
        text = to_text(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= SHOW_CHARS else text[:SHOW_CHARS] + "…"


_CLAUSE_TYPES = (A.Test, A.Comparison, A.EventTest, A.Quantifier)


def _is_clause(node: A.Node) -> bool:
    if isinstance(node, _CLAUSE_TYPES):
        return True
    if isinstance(node, A.Binary) and node.op in (A.BinaryOp.AND, A.BinaryOp.OR):
        return True
    return isinstance(node, A.Unary) and node.op is A.UnaryOp.NOT


def build_explanation(
    query: Query,
    value: Any,
    records: dict[int, list[Any]],
    nodes: dict[int, A.Node],
    reports: dict[int, EventReport] | None = None,
) -> Explanation:
    text = query.text

    written_nodes = {id(n) for n in query.ast.walk()}

    def snippet(node: A.Node) -> str:
        if isinstance(node, A.Attribute) and id(node) not in written_nodes:
            # A read the code generator implies (`user is returning` reads
            # `user's stats' sessions`, `this session` reads `session's id`): name it by
            # what it reads, not by the text of the clause that implied it.
            from segmentql.syntax.formatter import format_ast

            return format_ast(node)
        s = node.span
        if text and s.end > s.start:
            return text[s.start:s.end]
        return type(node).__name__

    def last(node: A.Node) -> Any:
        values = records.get(id(node))
        return values[-1] if values else _NOT_RUN

    targets = {id(n.target) for n in nodes.values() if isinstance(n, A.Attribute | A.Index)}
    all_reads = [
        n for n in nodes.values()
        if isinstance(n, A.Attribute) and id(n) not in targets and id(n) in records
    ]
    all_reads.sort(key=lambda n: (n.span.start, n.span.end))
    reads = [Read(snippet(n), n.span, last(n)) for n in all_reads]

    clauses: list[Clause] = []
    by_node: dict[int, Clause] = {}

    def visit(node: A.Node, depth: int) -> None:
        if _is_clause(node):
            v = last(node)
            inner = tuple(
                Read(snippet(n), n.span, last(n)) for n in all_reads
                if node.span.start <= n.span.start and n.span.end <= node.span.end
            )
            report = (reports or {}).get(id(node))
            events = None if report is None else _events(report, text, node)
            clause = Clause(snippet(node), node.span, type(node).__name__.lower(),
                            None if v is _NOT_RUN else v, v is not _NOT_RUN, inner, depth,
                            events)
            clauses.append(clause)
            by_node[id(node)] = clause
            depth += 1
        for child in node.children():
            visit(child, depth)

    visit(query.ast, 0)
    deciding = _deciding(query.ast, last, by_node)
    return Explanation(text, value, clauses, reads, deciding)


def _events(report: EventReport, text: str, node: A.Node) -> EventsConsidered:
    def said(span: Span) -> str:
        return text[span.start:span.end] if text and span.end > span.start else "criterion"

    window = report.window
    if isinstance(node, A.EventTest) and node.window is not None and window is not None:
        window = said(node.window.span) if node.window.span.end > node.window.span.start \
            else window
    return EventsConsidered(
        report.kind, window, report.start, report.end, report.session,
        tuple(
            EventConsidered(e.index, e.timestamp, e.status, e.item,
                            tuple(CriterionValue(said(sp), sp, v) for sp, v in e.criteria))
            for e in sorted(report.events, key=lambda e: (e.index, e.item or 0))
        ),
        report.count_op, report.times, report.matched, report.unknown,
        None if report.interests is None else tuple(report.interests),
        None if report.wanted is None else tuple(report.wanted),
        node.determiner.value if isinstance(node, A.EventTest) and node.determiner else None,
    )


def _deciding(node: A.Node, last: Any, by_node: dict[int, Clause]) -> Clause | None:
    """Follow the operands that decided each `and`/`or`/`not` down to one clause."""
    while True:
        if isinstance(node, A.Let):
            node = node.body
            continue
        if isinstance(node, A.Unary) and node.op is A.UnaryOp.NOT:
            node = node.operand
            continue
        if isinstance(node, A.Binary) and node.op in (A.BinaryOp.AND, A.BinaryOp.OR):
            v = last(node)
            decisive = node.op is A.BinaryOp.OR
            if v is decisive:
                for child in (node.left, node.right):
                    cv = last(child)
                    if cv is decisive or (decisive is False and cv is None):
                        node = child
                        break
                else:
                    return by_node.get(id(node))
                continue
            if isinstance(v, ErrorValue):
                for child in (node.left, node.right):
                    if last(child) is v:
                        node = child
                        break
                else:
                    return by_node.get(id(node))
                continue
            return by_node.get(id(node))
        return by_node.get(id(node))
