"""Date/time parts (`today's year`, `now's hour`) and the count test under unreadable events."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmentql.runtime.access import read_attribute
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.events import _count_test
from segmentql.runtime.temporal import part_kind, temporal_part
from segmentql.runtime.values import CURRENT_ZONE

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@given(st.dates())
def test_date_parts_match_the_calendar(day: dt.date) -> None:
    assert temporal_part(day, "year") == day.year
    assert temporal_part(day, "month") == day.month
    assert temporal_part(day, "day") == day.day
    assert temporal_part(day, "weekday") == WEEKDAYS[day.weekday()]
    assert temporal_part(day, "hour") is None


@given(st.times())
def test_time_fractions_are_the_whole_fraction_in_each_unit(t: dt.time) -> None:
    assert temporal_part(t, "milli") == t.microsecond // 1000
    assert temporal_part(t, "micro") == t.microsecond
    assert temporal_part(t, "nano") == t.microsecond * 1000
    assert temporal_part(t, "year") is None


def test_datetime_is_seen_in_the_evaluation_zone() -> None:
    instant = dt.datetime(2024, 7, 24, 23, 30, tzinfo=dt.UTC)
    token = CURRENT_ZONE.set(ZoneInfo("Asia/Tokyo"))
    try:
        seen = part_kind(instant)
        assert isinstance(seen, dt.datetime)
        assert (temporal_part(seen, "day"), temporal_part(seen, "hour")) == (25, 8)
    finally:
        CURRENT_ZONE.reset(token)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("1990-05-17", dt.date), ("2024-07-23T10:00:00Z", dt.datetime), ("10:30", dt.time)],
)
def test_iso_strings_are_read_as_temporal_values(text: str, kind: type) -> None:
    assert isinstance(part_kind(text), kind)


@pytest.mark.parametrize("text", ["soon", "12", "", "2024-13-01"])
def test_other_strings_have_no_parts(text: str) -> None:
    assert part_kind(text) is None
    result = read_attribute(text, "year", "year")
    assert isinstance(result, ErrorValue) and result.code == "Q301"


def test_read_attribute_names_parts_ignoring_case() -> None:
    assert read_attribute(dt.date(2024, 7, 24), "WeekDay", "weekday") == "wednesday"
    missing = read_attribute(dt.date(2024, 7, 24), "hour", "hour")
    assert isinstance(missing, ErrorValue) and missing.code == "Q301"


@given(
    st.sampled_from(["at least", "at most", "exactly"]),
    st.integers(0, 6), st.integers(0, 6), st.integers(0, 6),
)
def test_count_test_is_decided_only_when_every_count_agrees(
    op: str, times: int, matched: int, unknown: int
) -> None:
    def holds(count: int) -> bool:
        return {"at least": count >= times, "at most": count <= times,
                "exactly": count == times}[op]

    answers = {holds(matched + extra) for extra in range(unknown + 1)}
    expected = answers.pop() if len(answers) == 1 else None
    assert _count_test(op, times, matched, unknown) == expected
