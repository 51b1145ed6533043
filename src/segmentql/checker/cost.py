"""The check-time cost estimate: a query's worst case under the budget's input-size bounds.

The estimate counts what the run-time meter counts (`runtime/budget.py`): quantifier items,
arrow-function calls, items visited by `without duplicates` and `sorted`, and the size of
the texts and collections the query builds. Data is assumed as large as the budget allows
(`collection_items` items in a list read from data, `text_length` characters in a text).
A query whose worst case exceeds the budget gets a warning (Q225 steps, Q226 size); one
that calls a function it received as a value (the only way to recurse) gets Q227, since its
cost cannot be bounded at all. A call of a function parameter whose argument is not known
(a host-provided value) counts as recursion too. These are warnings: the run-time budget still stops the
evaluation, and most data is far smaller than the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmentql.codes import severity
from segmentql.diagnostics import Diagnostic, Span
from segmentql.runtime.budget import Budget
from segmentql.syntax import ast as A

#: Estimates are capped here (far above any budget) so they stay small integers.
CAP = 10**15


@dataclass(frozen=True, slots=True)
class _Lambda:
    node: A.Lambda
    env: dict[str, object]


@dataclass(frozen=True, slots=True)
class _Value:
    """What is known of a bound value: its items if a collection, its size."""

    items: int
    size: int


class _Unbounded(Exception):
    def __init__(self, span: Span) -> None:
        super().__init__("unbounded")
        self.span = span


def _add(*values: int) -> int:
    return min(CAP, sum(values))


def _mul(a: int, b: int) -> int:
    return min(CAP, a * b)


class CostEstimator:
    """Worst-case steps and value sizes of a query (see the module docstring)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.steps_at: Span | None = None
        self.size_at: Span | None = None
        self.max_size = 0
        self._active: set[int] = set()
        self._calls: dict[tuple[object, ...], int] = {}

    # steps ----------------------------------------------------------------------------

    def steps(self, node: A.Node, env: dict[str, object]) -> int:
        if isinstance(node, A.Let):
            inner = dict(env)
            total = 0
            for binding in node.bindings:
                total = _add(total, self.steps(binding.value, inner))
                inner[binding.name.lower()] = self.bound(binding.value, inner)
            return _add(total, self.steps(node.body, inner))
        if isinstance(node, A.Lambda):
            return 0  # paid when called
        if isinstance(node, A.Call):
            args = _add(*(self.steps(a, env) for a in node.args))
            target = env.get(node.function.lower())
            if isinstance(target, _Lambda):
                if id(target.node) in self._active:
                    raise _Unbounded(node.span)
                bound = [self.bound(arg, env) for arg in node.args]
                key = (id(target.node), *(b if isinstance(b, _Value) else id(b) for b in bound))
                body = self._calls.get(key)
                if body is None:
                    self._active.add(id(target.node))
                    try:
                        inner = dict(target.env)
                        for param, value in zip(target.node.params, bound, strict=False):
                            inner[param.lower()] = value
                        body = self.steps(target.node.body, inner)
                    finally:
                        self._active.discard(id(target.node))
                    self._calls[key] = body
                return _add(args, 1, body)
            if node.function.lower() in env:  # a function received as a value
                raise _Unbounded(node.span)
            return args
        if isinstance(node, A.Quantifier):
            items = self.items(node.collection, env)
            inner = dict(env)
            inner[node.item.lower()] = _Value(self.budget.collection_items,
                                             self.budget.text_length)
            if node.index:
                inner[node.index.lower()] = _Value(1, self.budget.text_length)
            per_item = self.steps(node.condition, inner)
            total = _add(self.steps(node.collection, env), 1, _mul(items, _add(1, per_item)))
            self._note_steps(total, node.span)
            return total
        if isinstance(node, A.WithoutDuplicates | A.Sort):
            items = self.items(node.operand, env)
            own = items + 1
            if isinstance(node, A.Sort):
                own = _mul(items, max(1, items.bit_length())) + 1
            total = _add(self.steps(node.operand, env), own)
            self._note_steps(total, node.span)
            return total
        if isinstance(node, A.Binary) and node.op is A.BinaryOp.CONCAT:
            self._note_size(self.size(node, env), node.span)
        if isinstance(node, A.ListLiteral | A.MapLiteral):
            self._note_size(self.size(node, env), node.span)
        return _add(*(self.steps(c, env) for c in _children(node)))

    def bound(self, node: A.Node, env: dict[str, object]) -> object:
        if isinstance(node, A.Lambda):
            return _Lambda(node, dict(env))
        if isinstance(node, A.Variable):
            known = env.get(node.name.lower())
            if known is not None:
                return known
        return _Value(self.items(node, env), self.size(node, env))

    def items(self, node: A.Node, env: dict[str, object]) -> int:
        """The most items the collection `node` can have."""
        if isinstance(node, A.ListLiteral):
            return len(node.items)
        if isinstance(node, A.MapLiteral):
            return len(node.entries)
        if isinstance(node, A.Binary) and node.op is A.BinaryOp.RANGE:
            return 30
        if isinstance(node, A.Variable):
            known = env.get(node.name.lower())
            if isinstance(known, _Value):
                return known.items
        if isinstance(node, A.WithoutDuplicates | A.Sort):
            return self.items(node.operand, env)
        return self.budget.collection_items

    def size(self, node: A.Node, env: dict[str, object]) -> int:
        """The largest text length or item count (through nesting) `node` can have."""
        if isinstance(node, A.StringLiteral):
            return len(node.value)
        if isinstance(node, A.Binary) and node.op is A.BinaryOp.CONCAT:
            return _add(self.size(node.left, env), self.size(node.right, env))
        if isinstance(node, A.ListLiteral):
            return _add(1, *(self.size(i, env) for i in node.items))
        if isinstance(node, A.MapLiteral):
            return _add(1, *(self.size(e.value, env) for e in node.entries))
        if isinstance(node, A.Variable):
            known = env.get(node.name.lower())
            if isinstance(known, _Value):
                return known.size
        if isinstance(node, A.Let):
            inner = dict(env)
            for binding in node.bindings:
                inner[binding.name.lower()] = self.bound(binding.value, inner)
            return self.size(node.body, inner)
        if isinstance(node, A.Conditional):
            other = 0 if node.otherwise is None else self.size(node.otherwise, env)
            return max(self.size(node.then, env), other)
        if isinstance(node, A.IntegerLiteral | A.BooleanLiteral | A.NullLiteral):
            return 1
        return self.budget.text_length

    def _note_steps(self, steps: int, span: Span) -> None:
        if steps > self.budget.steps and self.steps_at is None:
            self.steps_at = span

    def _note_size(self, size: int, span: Span) -> None:
        if size > self.max_size:
            self.max_size = size
        if size > self.budget.size and self.size_at is None:
            self.size_at = span


def _children(node: A.Node) -> list[A.Node]:
    from segmentql.compiler.codegen import child_nodes

    return child_nodes(node)


def estimate(root: A.Node, budget: Budget) -> list[Diagnostic]:
    """The cost warnings of `root` (none when its worst case fits the budget)."""
    estimator = CostEstimator(budget)
    bounds = (f"assuming data lists of up to {budget.collection_items} items and texts of up "
              f"to {budget.text_length} characters")
    try:
        steps = estimator.steps(root, {})
    except _Unbounded as exc:
        return [Diagnostic(
            "Q227", severity("Q227"),
            "this call can run a function that is already running (recursion through an "
            "argument), so the query's cost has no bound before it runs; the evaluation "
            "budget stops it at run time",
            exc.span, help="write the repetition as a quantifier over a range instead",
        )]
    except RecursionError:
        return []
    out: list[Diagnostic] = []
    if steps > budget.steps:
        shown = "more than 10^15" if steps >= CAP else f"about {steps:,}"
        out.append(Diagnostic(
            "Q225", severity("Q225"),
            f"worst case is {shown} evaluation steps, over the budget of {budget.steps:,} "
            f"({bounds}); evaluation may stop with Q312",
            estimator.steps_at or root.span,
            help="nest fewer quantifiers, or iterate over smaller collections",
        ))
    if estimator.size_at is not None:
        shown = ("more than 10^15" if estimator.max_size >= CAP
                 else f"about {estimator.max_size:,}")
        out.append(Diagnostic(
            "Q226", severity("Q226"),
            f"a value built here can reach {shown} characters or items, over the size "
            f"budget of {budget.size:,} ({bounds}); evaluation may stop with Q313",
            estimator.size_at,
            help="avoid doubling a text or list through `let`",
        ))
    return out
