"""`Query.explain`: the value of every clause, where it is, and what it read.

Built from a run of the tracing rendering of the query (every node reports its value), so
the values shown are the values the evaluator computed, not a re-interpretation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from segmentql.diagnostics import Span
from segmentql.runtime.errors import ErrorValue
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
        }


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
    query: Query, value: Any, records: dict[int, list[Any]], nodes: dict[int, A.Node]
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
            clause = Clause(snippet(node), node.span, type(node).__name__.lower(),
                            None if v is _NOT_RUN else v, v is not _NOT_RUN, inner, depth)
            clauses.append(clause)
            by_node[id(node)] = clause
            depth += 1
        for child in node.children():
            visit(child, depth)

    visit(query.ast, 0)
    deciding = _deciding(query.ast, last, by_node)
    return Explanation(text, value, clauses, reads, deciding)


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
