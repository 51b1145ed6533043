"""The evaluation contracts, enforced in one place rather than per operator.

The generated code runs the runtime helpers directly (that is what makes it fast). Helpers
return error values for the data they expect, but unusual data (a NaN timestamp, an object
with a custom `__eq__`, cyclic or very deep structures) can still make one raise. When that
happens the entry function does not guess: `Query` evaluates the query again with a *guarded
namespace*, where every helper (and every event query) turns an exception into an error
value at the clause that raised (`Q315`, or `Q300` for data nested too deeply). The usual
rules then apply: `false and E` is false, `true or E` is true, the rest stays an error.

Running out of budget (`BudgetExceeded`) is never turned into a value: it ends the
evaluation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime import helpers
from segmentql.runtime.budget import BudgetExceeded
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.events import EventQuery

DEEP_CODE = "Q300"  # "evaluation error": data nested too deeply (or cyclic)
FAILED_CODE = "Q315"

#: Namespace entries that are types or builtins used for class checks, not helpers.
_NOT_HELPERS = frozenset({"_M", "_Err", "_dict", "_list", "_str", "_int", "_bool", "_Decimal",
                          "_len", "_CUSTOM", "_EMPTY", "_meter"})


def failure(exc: BaseException, what: str, span: Span) -> ErrorValue:
    """The error value standing for exception `exc` raised by `what`."""
    if isinstance(exc, RecursionError):
        return ErrorValue(DEEP_CODE, f"data nested too deeply for {what}", span)
    detail = str(exc)
    detail = f": {detail[:80]}" if detail else ""
    return ErrorValue(
        FAILED_CODE, f"{what} failed on this data ({type(exc).__name__}{detail})", span
    )


def _span_in(args: tuple[Any, ...]) -> Span:
    for arg in reversed(args):
        if isinstance(arg, Span):
            return arg
    return NO_SPAN


def guard(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
    """`fn` with its exceptions (but not the budget's) returned as error values."""

    @functools.wraps(fn)
    def guarded(*args: Any) -> Any:
        try:
            return fn(*args)
        except BudgetExceeded:
            raise
        except Exception as exc:  # RecursionError included
            return failure(exc, what, _span_in(args))

    return guarded


class _GuardedEvents:
    """An `EventQuery` whose `run` returns an error value instead of raising."""

    __slots__ = ("query",)

    def __init__(self, query: EventQuery) -> None:
        self.query = query

    def run(self, *args: Any) -> Any:
        try:
            return self.query.run(*args)
        except BudgetExceeded:
            raise
        except Exception as exc:
            return failure(exc, "the event test", self.query.span)


def _describe(fn: Any) -> str:
    name = getattr(fn, "__name__", "")
    return f"'{name.replace('_', ' ')}'" if name else "an operation"


def guarded_namespace(ns: dict[str, Any]) -> dict[str, Any]:
    """A copy of a generated namespace in which no helper raises on data."""
    safe = dict(ns)
    for name, value in ns.items():
        if name in _NOT_HELPERS or not name.startswith("_") or isinstance(value, type):
            continue
        if name in helpers.NAMESPACE and callable(value):
            safe[name] = guard(value, _describe(value))
        elif isinstance(value, EventQuery):
            safe[name] = _GuardedEvents(value)
        elif name.startswith("_k") and callable(value) and not hasattr(value, "found"):
            safe[name] = guard(value, "an operation")
    return safe
