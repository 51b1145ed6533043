"""The exceptions segmentql raises. Only these (and their subclasses) escape the public API."""

from __future__ import annotations

from collections.abc import Sequence

from segmentql.diagnostics import Diagnostic, Span, render_all


class SegmentqlError(Exception):
    """Root of every exception segmentql raises on purpose."""


class QueryError(SegmentqlError):
    """A query that cannot be compiled; `.diagnostics` holds every finding (errors first)."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str = "") -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.source = source
        super().__init__(self._summary())

    def _summary(self) -> str:
        errors = [d for d in self.diagnostics if d.is_error] or self.diagnostics
        if not errors:
            return "invalid query"
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return (
            f"{first.code} at {first.span.line}:{first.span.column}: {first.message}{more}"
        )

    def render(self, filename: str = "<query>") -> str:
        """All diagnostics rendered rustc-style against the query text."""
        return render_all(self.diagnostics, self.source, filename=filename)


class QuerySyntaxError(QueryError):
    """The text is not a query of the language (raised by `segmentql.parse`)."""


class EvaluationError(SegmentqlError):
    """Evaluation produced an error value (raised by `Query.evaluate`, never by `matches`)."""

    def __init__(self, message: str, span: Span, code: str = "Q301") -> None:
        self.message = message
        self.span = span
        self.code = code
        super().__init__(f"{code} at {span.line}:{span.column}: {message}")


class SchemaError(SegmentqlError):
    """A schema file or schema definition that cannot be used."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None,
        column: int | None = None, hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint
        where = path or "<schema>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        text = f"{where}: {message}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)
