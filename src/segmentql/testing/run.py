"""Evaluating an audience on test data, and explaining a result that was not the expected one.

Shared by the pytest items of audience files, the `evaluate_audience` fixture and
`assert_audience`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segmentql.compiler import Explanation, compile_query
from segmentql.errors import EvaluationError, QueryError
from segmentql.schema import Schema
from segmentql.testing.audience_file import Expect, QueryOrigin


@dataclass(frozen=True, eq=False)
class AudienceResult:
    """An audience evaluated on one profile: the value, and why.

    Compares equal to its value (`result == True`, `result == {"a": 1}`); truthy when the
    audience matched. pytest shows the explanation when a comparison with it fails.
    """

    query: str
    variables: Mapping[str, Any]
    value: Any
    explanation: Explanation | None
    error: EvaluationError | None = None

    @property
    def matched(self) -> bool:
        return self.value is True

    def __bool__(self) -> bool:
        return self.matched

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AudienceResult):
            return _same(self.value, other.value)
        return _same(self.value, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"AudienceResult({self.query!r} -> {self.value!r})"

    def explain(self) -> str:
        """The query, the clause that decided the result, every clause's value and reads."""
        if self.explanation is None:
            return f"query: {self.query}\nerror: {self.error}"
        return self.explanation.render()


def parse_now(now: str | dt.datetime | None) -> dt.datetime | None:
    """An aware datetime from an ISO-8601 string (a naive one is taken as UTC)."""
    if now is None or isinstance(now, dt.datetime):
        return now
    try:
        parsed = dt.datetime.fromisoformat(now)
    except ValueError:
        raise ValueError(f"`now` is not an ISO-8601 date-time: {now!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def variables_from_events(
    events: Sequence[Any],
    snapshot: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    schema: Schema | None = None,
) -> Mapping[str, Any]:
    """Apply `events` to a fresh `ProfileStore` and snapshot the profile.

    `snapshot` may name `anonymous_id`/`user_id` and give request variables (`page`, ...);
    by default the profile is that of the last event's user id, else its anonymous id. With
    `now`, events without a timestamp happen at `now` and sessions expire relative to it.
    """
    from segmentql.state import ProfileStore

    clock = (lambda: now) if now is not None else None
    store = ProfileStore(clock=clock, schema=schema)
    store.apply(list(events))
    options = dict(snapshot or {})
    if "anonymous_id" not in options and "user_id" not in options:
        options.update(_default_identity(events))
    return store.snapshot(now=now, **options)


def _default_identity(events: Sequence[Any]) -> dict[str, str]:
    for key in ("user_id", "anonymous_id"):
        camel = "userId" if key == "user_id" else "anonymousId"
        for event in reversed(events):
            value = (event.get(key) or event.get(camel)) if isinstance(event, Mapping) else (
                getattr(event, key, None))
            if isinstance(value, str):
                return {key: value}
    return {}


def evaluate(
    query: str,
    variables: Mapping[str, Any],
    *,
    schema: Schema | None = None,
    now: str | dt.datetime | None = None,
    time_zone: str = "UTC",
) -> AudienceResult:
    """Compile (raises `QueryError`) and evaluate with its explanation."""
    compiled = compile_query(query, schema)
    instant = parse_now(now)
    try:
        explanation = compiled.explain(variables, now=instant, time_zone=time_zone)
    except EvaluationError as exc:
        return AudienceResult(query, variables, None, None, exc)
    if explanation.error is not None:
        error = explanation.error
        failure = EvaluationError(error.message, error.span, error.code)
        return AudienceResult(query, variables, None, explanation, failure)
    return AudienceResult(query, variables, explanation.value, explanation)


def check_expectation(
    query: str,
    variables: Mapping[str, Any],
    expect: Expect,
    *,
    schema: Schema | None = None,
    now: str | dt.datetime | None = None,
    time_zone: str = "UTC",
    label: str = "",
    origin: QueryOrigin | None = None,
) -> str | None:
    """None when the audience behaves as expected, else the failure message.

    With `origin` (where the query is in its audience file), positions in the message are
    file positions (`tests/x.audience.yaml:7:30`), not positions in the query."""
    head = f"{label}: " if label else ""
    try:
        result = evaluate(query, variables, schema=schema, now=now, time_zone=time_zone)
    except QueryError as exc:
        codes = {d.code for d in exc.diagnostics if d.is_error}
        if expect.error is not None and expect.error in codes:
            return None
        rendered = exc.render()
        if origin is not None:
            rendered = _relocated(rendered, query, origin)
        return "\n".join([
            f"{head}expected {expect.describe()}, but the query does not compile",
            rendered,
        ])
    if expect.error is not None:
        if result.error is not None and result.error.code == expect.error:
            return None
        got = (f"error {result.error.code}: {result.error.message}" if result.error is not None
               else f"value {result.value!r}")
        return _explained(f"{head}expected error {expect.error}, got {got}", result, origin)
    if result.error is not None:
        return _explained(
            f"{head}expected {expect.describe()}, got error {result.error.code}: "
            f"{result.error.message}",
            result,
            origin,
        )
    if expect.has_value:
        if _same(result.value, expect.value):
            return None
        return _explained(
            f"{head}expected value {expect.value!r}, got {result.value!r}", result, origin
        )
    if result.matched == expect.matches:
        return None
    got = "a match" if result.matched else f"no match (value {result.value!r})"
    return _explained(f"{head}expected {expect.describe()}, got {got}", result, origin)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, list | tuple) and isinstance(expected, list | tuple):
        return len(actual) == len(expected) and all(
            _same(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return bool(actual == expected)


def _relocated(rendered: str, query: str, origin: QueryOrigin) -> str:
    """A rendered diagnostic whose `--> <query>:L:C` names the file position instead."""
    lines = query.split("\n")

    def at(match: re.Match[str]) -> str:
        line, column = int(match[1]), int(match[2])
        text = lines[line - 1][column - 1:] if 0 < line <= len(lines) else ""
        return f"--> {origin.locate(line, column, text)}"

    return re.sub(r"--> <query>:(\d+):(\d+)", at, rendered)


def _explained(summary: str, result: AudienceResult, origin: QueryOrigin | None = None) -> str:
    lines = [summary]
    explanation = result.explanation
    if origin is not None:
        lines.append(f"query at: {origin.locate(1, 1, result.query)}")
    if explanation is not None and explanation.deciding is not None:
        deciding = explanation.deciding
        span = deciding.span
        if origin is not None:
            where = origin.locate(span.line, span.column, deciding.text)
        else:
            where = f"line {span.line}, column {span.column}"
        lines.append(f"decided by: {deciding.text} ({where})")
    failure = explanation.error_diagnostic() if explanation is not None else None
    if failure is not None:  # the run-time error with its source line and the values read
        from segmentql.diagnostics import render_text

        rendered = render_text(failure, result.query)
        lines.append(_relocated(rendered, result.query, origin) if origin else rendered)
    lines.append("")
    lines.append(result.explain())
    return "\n".join(lines)
