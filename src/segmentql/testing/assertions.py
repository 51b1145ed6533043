"""`assert_audience`: an assertion whose failure explains the audience's result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from segmentql.schema import Schema
from segmentql.testing.audience_file import Expect
from segmentql.testing.run import check_expectation, variables_from_events


def assert_audience(
    query: str,
    variables: Mapping[str, Any] | None,
    expected: Any,
    *,
    schema: Schema | None = None,
    now: str | dt.datetime | None = None,
    time_zone: str = "UTC",
    events: Sequence[Any] | None = None,
    error: str | None = None,
) -> None:
    """Assert that `query` gives `expected` on `variables` (or on the snapshot built from
    `events`, with `variables` laid over it).

    `expected` True/False asks for a match / no match (`Query.matches`); any other value is
    compared with the query's value. Pass `error="Q301"` (and `expected=None`) to expect an
    evaluation or compilation error with that code. The failure message shows the query, the
    clause that decided the result and the values it read.
    """
    __tracebackhide__ = True
    if error is not None:
        expect = Expect(error=error)
    elif isinstance(expected, bool):
        expect = Expect(matches=expected)
    else:
        expect = Expect(value=expected, has_value=True)
    data: Mapping[str, Any] = variables or {}
    if events is not None:
        from segmentql.testing.run import parse_now

        snapshot = variables_from_events(events, now=parse_now(now), schema=schema)
        data = {**snapshot, **data}
    problem = check_expectation(
        query, data, expect, schema=schema, now=now, time_zone=time_zone
    )
    if problem is not None:
        raise AssertionError(problem)
