"""Error values: run-time failures carried as values (CEL-style), never raised mid-query.

An `ErrorValue` flows through the generated code like any other value: every operation that
receives one returns it unchanged, except `and`/`or`, which drop it when the other side
decides (`false and E` is false, `true or E` is true), and `is defined`, which turns it
into false. `Query.evaluate` raises `EvaluationError` for an error result; `Query.matches`
treats it as "no match".
"""

from __future__ import annotations

from typing import Any

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.errors import EvaluationError


class ErrorValue:
    """A run-time error: a `Q3xx` code, a message and the span of the clause that failed."""

    __slots__ = ("code", "message", "span")

    def __init__(self, code: str, message: str, span: Span = NO_SPAN) -> None:
        self.code = code
        self.message = message
        self.span = span

    def __bool__(self) -> bool:  # an error is never a match
        return False

    def __repr__(self) -> str:
        return f"ErrorValue({self.code!r}, {self.message!r})"

    def at(self, span: Span) -> ErrorValue:
        """The same error placed at `span` if it has no position yet."""
        if self.span is NO_SPAN:
            return ErrorValue(self.code, self.message, span)
        return self

    def to_exception(self) -> EvaluationError:
        return EvaluationError(self.message, self.span, self.code)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "span": self.span.to_json()}


class _Missing:
    """The sentinel for "no such key" inside attribute reads (never a query value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def type_mismatch(message: str, span: Span = NO_SPAN) -> ErrorValue:
    return ErrorValue("Q301", message, span)
