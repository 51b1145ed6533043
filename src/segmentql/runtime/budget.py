"""The evaluation budget: how much work one evaluation may do, and the meter that counts it.

Only constructs whose cost can grow faster than the query's text are metered (see
`docs/semantics.md`, "Cost model and budget"): quantifier items, arrow-function calls and
their nesting, items visited by `without duplicates` and `sorted`, and the size of text and
collections built by `&` and by list/map literals inside `let`. A query with none of these
creates no meter and pays nothing.

The meter is a local of the generated entry function (`_b = _meter()`), so evaluations never
share one. Running out raises `BudgetExceeded`, which stops the whole evaluation (an `or`
does not absorb it): `Query.evaluate` raises `EvaluationError` with the code, `matches` is
False.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime.errors import ErrorValue

STEPS_CODE = "Q312"
SIZE_CODE = "Q313"
DEPTH_CODE = "Q314"


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits on one evaluation, and the input-size bounds the check-time estimate assumes.

    `steps`: quantifier items, arrow-function calls and items visited by `without
    duplicates`/`sorted`, summed over the evaluation. `size`: characters of a text or
    items (counted through nested collections) of a collection the query builds. `depth`:
    arrow-function calls in progress at once. `collection_items` and `text_length` are the
    assumed largest data list and data text, used only by the check-time estimate (Q225,
    Q226).
    """

    steps: int = 10_000
    size: int = 1_000_000
    depth: int = 32
    collection_items: int = 1_000
    text_length: int = 10_000

    def __post_init__(self) -> None:
        for name in ("steps", "size", "depth", "collection_items", "text_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Budget.{name} must be a positive integer, not {value!r}")


DEFAULT_BUDGET = Budget()

#: A per-evaluation override (`Query.evaluate(..., budget=...)`), read when a meter is made.
CURRENT_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "segmentql_budget", default=None
)


class BudgetExceeded(Exception):
    """Raised by the meter; carries the error value the evaluation ends with."""

    def __init__(self, error: ErrorValue) -> None:
        super().__init__(error.message)
        self.error = error


class Meter:
    """The counters of one evaluation."""

    __slots__ = ("depth", "left", "max_depth", "max_size", "weights")

    def __init__(self, budget: Budget) -> None:
        self.left = budget.steps
        self.max_size = budget.size
        self.max_depth = budget.depth
        self.depth = 0
        #: id -> (collection, weight) of collections built by this evaluation (made on the
        #: first `_build`: most metered queries build none)
        self.weights: dict[int, tuple[Any, int]] | None = None

    def spend(self, steps: int, span: Span = NO_SPAN) -> None:
        self.left -= steps
        if self.left < 0:
            raise BudgetExceeded(ErrorValue(
                STEPS_CODE, "evaluation step budget exhausted (loops, calls or sorting)", span
            ))

    def _items(self, collection: Any, span: Span = NO_SPAN) -> Any:
        """`collection` unchanged, after paying one step per item (and one for the visit)."""
        cls = collection.__class__
        if cls is list or cls is dict or cls is tuple:
            self.left -= len(collection) + 1
        else:
            try:
                self.left -= len(collection) + 1
            except TypeError:
                self.left -= 1
        if self.left < 0:
            self.spend(0, span)
        return collection

    def _sorting(self, collection: Any, span: Span = NO_SPAN) -> Any:
        """`collection` unchanged, after paying n·log2(n) steps for sorting it."""
        try:
            n = len(collection)
        except TypeError:
            n = 0
        self.spend(n * max(1, n.bit_length()) + 1, span)
        return collection

    def _text(self, value: Any, span: Span = NO_SPAN) -> Any:
        """A text (or error) the query built, checked against the size budget."""
        if value.__class__ is str and len(value) > self.max_size:
            raise BudgetExceeded(ErrorValue(
                SIZE_CODE, f"text of {len(value)} characters exceeds the size budget "
                f"({self.max_size})", span
            ))
        return value

    def _build(self, value: Any, span: Span = NO_SPAN) -> Any:
        """A list or map the query built: its weight (items counted through the nested
        collections this evaluation built) checked against the size budget."""
        if value.__class__ is ErrorValue:
            return value
        items = value.values() if value.__class__ is dict else value
        weight = 1
        weights = self.weights
        if weights is None:
            weights = self.weights = {}
        for item in items:
            entry = weights.get(id(item))
            weight += entry[1] if entry is not None and entry[0] is item else 1
        if weight > self.max_size:
            raise BudgetExceeded(ErrorValue(
                SIZE_CODE, f"collection of {weight} items (counted through nesting) exceeds "
                f"the size budget ({self.max_size})", span
            ))
        weights[id(value)] = (value, weight)
        self.spend(len(items) + 1, span)
        return value

    def _function(self, fn: Callable[..., Any], span: Span = NO_SPAN) -> Callable[..., Any]:
        """An arrow function that pays a step per call and counts nesting."""

        def call(*args: Any) -> Any:
            self.left -= 1
            if self.left < 0:
                self.spend(0, span)
            self.depth += 1
            try:
                if self.depth > self.max_depth:
                    raise BudgetExceeded(ErrorValue(
                        DEPTH_CODE, f"arrow-function calls nested deeper than {self.max_depth}",
                        span,
                    ))
                return fn(*args)
            finally:
                self.depth -= 1

        return call


def meter_factory(budget: Budget) -> Callable[[], Meter]:
    """`_meter` of a generated namespace: a fresh meter per evaluation, with the
    evaluation's override if one is set."""
    get = CURRENT_BUDGET.get

    def new_meter() -> Meter:
        override = get()
        return Meter(budget if override is None else override)

    return new_meter
