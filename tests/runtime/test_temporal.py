"""Durations and calendar arithmetic (`segmentql.runtime.temporal`)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from segmentql.runtime.temporal import (
    Duration,
    parse_datetime,
    parse_time,
    shift,
    this_period,
    units_between,
    window_bounds,
    zone,
)
from segmentql.runtime.values import CURRENT_ZONE

NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def new_york() -> object:
    token = CURRENT_ZONE.set(NY)
    yield NY
    CURRENT_ZONE.reset(token)


def test_duration_of_units() -> None:
    assert Duration.of(2, "year") == Duration(months=24)
    assert Duration.of(Decimal("1.5"), "day") == Duration(days=1, micros=43_200_000_000)
    assert Duration.of(3, "hour").fixed_micros() == 3 * 3_600_000_000
    assert Duration.of(1, "month").fixed_micros() is None
    with pytest.raises(ValueError):
        Duration.of(Decimal("0.5"), "month")


def test_duration_text() -> None:
    assert Duration.of(14, "month").isoformat() == "P1Y2M"
    assert Duration.of(90, "minute").isoformat() == "PT1H30M"
    assert Duration().isoformat() == "PT0S"


def test_month_clamps_and_leap_years() -> None:
    assert shift(dt.date(2024, 1, 31), Duration(months=1)) == dt.date(2024, 2, 29)
    assert shift(dt.date(2024, 2, 29), Duration(months=12)) == dt.date(2025, 2, 28)
    assert shift(dt.date(2024, 3, 31), Duration(months=-1)) == dt.date(2024, 2, 29)


def test_weekdays_skip_weekends() -> None:
    friday = dt.date(2024, 7, 26)
    assert shift(friday, Duration(weekdays=1)) == dt.date(2024, 7, 29)
    assert shift(friday, Duration(weekend_days=1)) == dt.date(2024, 7, 27)


def test_day_across_spring_forward_keeps_local_time(new_york: object) -> None:
    start = dt.datetime(2024, 3, 9, 12, 0, tzinfo=NY)
    later = shift(start, Duration(days=1))
    assert isinstance(later, dt.datetime)
    assert later.astimezone(NY).hour == 12
    assert later.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=23)
    fixed = shift(start, Duration.of(24, "hour"))
    assert isinstance(fixed, dt.datetime)
    assert fixed.astimezone(NY).hour == 13


def test_gap_moves_later(new_york: object) -> None:
    start = dt.datetime(2024, 3, 9, 2, 30, tzinfo=NY)
    later = shift(start, Duration(days=1))
    assert isinstance(later, dt.datetime)
    assert (later.astimezone(NY).hour, later.astimezone(NY).minute) == (3, 30)


def test_units_between_counts_complete_units() -> None:
    assert units_between("days", dt.date(2024, 1, 1), dt.date(2024, 3, 1)) == 60
    assert units_between("days", dt.date(2024, 3, 1), dt.date(2024, 1, 1)) == -60
    assert units_between("months", dt.date(2024, 1, 31), dt.date(2024, 2, 29)) == 0
    assert units_between("years", dt.date(2020, 2, 29), dt.date(2024, 2, 28)) == 3
    assert units_between("weekdays", dt.date(2024, 7, 22), dt.date(2024, 7, 29)) == 5
    start = dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert units_between("hours", start, start + dt.timedelta(minutes=119)) == 1


def test_periods_and_windows() -> None:
    now = dt.datetime(2024, 7, 24, 12, 0, tzinfo=dt.UTC)
    assert this_period("week", now, dt.UTC) == "2024-W30"
    assert this_period("month", now, dt.UTC) == "2024-07"
    assert this_period("year", now, dt.UTC) == 2024
    start, end = window_bounds("last week", now, dt.UTC)
    assert (start.date(), end.date()) == (dt.date(2024, 7, 15), dt.date(2024, 7, 22))
    start, end = window_bounds("yesterday", now, NY)
    assert start.astimezone(NY).date() == dt.date(2024, 7, 23)


def test_parsing() -> None:
    assert parse_time("12:30") == (dt.time(12, 30), 2)
    assert parse_time(7) == (dt.time(7), 1)
    assert parse_time("25:00") is None
    local = parse_datetime("2024-07-24T10:00:00", NY)
    assert local is not None and local.utcoffset() == dt.timedelta(hours=-4)
    assert parse_datetime("2024-07-24") is None
    assert zone("UTC") is dt.UTC
    with pytest.raises(ValueError):
        zone("Mars/Olympus")
