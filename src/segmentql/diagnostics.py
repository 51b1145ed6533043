"""Diagnostics as data: spans, severities, diagnostics, and their text/JSON renderings.

Every stage (parser, checker, evaluator, state model) reports problems as `Diagnostic`
values with a stable code from `segmentql.codes`. Nothing here knows about lark or LSP;
editors convert at the edge (code points here, UTF-16 there).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range `[start, end)` of code-point offsets, with 1-based line/column.

    `end_line`/`end_column` describe the position of `end` (exclusive), as lark does.
    """

    start: int
    end: int
    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1

    @classmethod
    def from_offsets(cls, text: str, start: int, end: int) -> Span:
        """Build a span with line/column computed from `text`."""
        start = max(0, min(start, len(text)))
        end = max(start, min(end, len(text)))
        line, column = position_of(text, start)
        end_line, end_column = position_of(text, end)
        return cls(start, end, line, column, end_line, end_column)

    def to_json(self) -> dict[str, int]:
        return {
            "start": self.start,
            "end": self.end,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    def contains(self, offset: int) -> bool:
        return self.start <= offset < self.end or (self.start == self.end == offset)

    def cover(self, other: Span) -> Span:
        """The smallest span holding both spans."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(first.start, last.end, first.line, first.column, last.end_line, last.end_column)


#: The span of nodes built by code rather than parsed from text.
NO_SPAN = Span(0, 0, 1, 1, 1, 1)


def position_of(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a code-point offset in `text`."""
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    return line, offset - line_start + 1


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary span with a short explanation ("the list starts here")."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A suggested edit of the query: put `replacement` in place of `span` (empty span:
    insert). `title` names it ("Replace with `email`"), as an editor's quick fix shows it."""

    title: str
    span: Span
    replacement: str

    def apply(self, text: str) -> str:
        return text[:self.span.start] + self.replacement + text[self.span.end:]

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "span": self.span.to_json(), "replacement": self.replacement}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a query: what, where, and how to fix it."""

    code: str
    severity: Severity
    message: str
    span: Span
    notes: tuple[str, ...] = ()
    help: str | None = None
    labels: tuple[Label, ...] = field(default=())
    #: "did you mean" candidates, best first; also mentioned in `help`.
    suggestions: tuple[str, ...] = ()
    #: Edits that apply a suggestion or a suggested rewrite, best first (editor quick fixes).
    fixes: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "span": self.span.to_json(),
            "notes": list(self.notes),
            "help": self.help,
            "labels": [{"span": lb.span.to_json(), "message": lb.message} for lb in self.labels],
            "suggestions": list(self.suggestions),
            "fixes": [f.to_json() for f in self.fixes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        span = Span(**data["span"])
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            message=data["message"],
            span=span,
            notes=tuple(data.get("notes", ())),
            help=data.get("help"),
            labels=tuple(
                Label(Span(**lb["span"]), lb["message"]) for lb in data.get("labels", ())
            ),
            suggestions=tuple(data.get("suggestions", ())),
            fixes=tuple(
                Fix(f["title"], Span(**f["span"]), f["replacement"])
                for f in data.get("fixes", ())
            ),
        )


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Source order, then errors before warnings, then by code: a stable, readable order."""
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(diagnostics, key=lambda d: (d.span.start, d.span.end, rank[d.severity], d.code))


def diagnostics_to_json(diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    """The JSON document the CLI prints with `--format json` (see docs/cli.md)."""
    return {"version": 1, "diagnostics": [d.to_json() for d in diagnostics]}


def render_text(
    diagnostic: Diagnostic, source: str, *, filename: str = "<query>"
) -> str:
    """Render one diagnostic rustc/ruff-style: header, arrow, gutter, carets, notes, help."""
    span = diagnostic.span
    lines = source.split("\n")
    out = [f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    gutter = len(str(max(span.end_line, span.line)))
    pad = " " * gutter
    out.append(f"{pad}--> {filename}:{span.line}:{span.column}")
    out.append(f"{pad} |")
    for lineno in range(span.line, min(span.end_line, len(lines)) + 1):
        text = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        expanded = text.expandtabs(4)
        out.append(f"{lineno:>{gutter}} | {expanded}")
        first = span.column - 1 if lineno == span.line else 0
        last = span.end_column - 1 if lineno == span.end_line else len(text)
        if span.end_line > lineno and lineno != span.line:
            first = 0
        if lineno == span.end_line and span.end_line != span.line:
            first = 0
        start_col = len(text[:first].expandtabs(4))
        width = max(1, len(text[first:last].expandtabs(4)))
        if lineno == span.end_line and span.end_line != span.line and last == 0:
            continue
        out.append(f"{pad} | {' ' * start_col}{'^' * width}")
    for label in diagnostic.labels:
        out.append(f"{pad} = label {label.span.line}:{label.span.column}: {label.message}")
    for note in diagnostic.notes:
        out.append(f"{pad} = note: {note}")
    if diagnostic.help:
        out.append(f"{pad} = help: {diagnostic.help}")
    return "\n".join(out)


def render_all(
    diagnostics: Sequence[Diagnostic], source: str, *, filename: str = "<query>"
) -> str:
    """Render every diagnostic, blank-line separated, with a summary line."""
    parts = [render_text(d, source, filename=filename) for d in diagnostics]
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    parts.append(summary_line(errors, warnings))
    return "\n\n".join(parts)


def summary_line(errors: int, warnings: int) -> str:
    if not errors and not warnings:
        return "No problems found."
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"
    return f"Found {plural(errors, 'error')} and {plural(warnings, 'warning')}."
