"""Dates, times and durations: parsing ISO text, calendar arithmetic, periods, unit counts.

Calendar rules (reference §2.3): adding years or months clamps to the last day of the target
month (Feb 29 + 1 year is Feb 28); adding days moves the wall-clock date in the evaluation's
time zone, taking the first occurrence of an ambiguous local time and the time just after a
gap; hours and smaller are fixed lengths. Weekdays are Monday to Friday.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from segmentql.runtime.values import CURRENT_ZONE, as_instant

_MICROS = {
    "hour": 3_600_000_000,
    "minute": 60_000_000,
    "second": 1_000_000,
    "millisecond": 1_000,
    "microsecond": 1,
}


@dataclass(frozen=True, slots=True)
class Duration:
    """A span of time in calendar parts: months, days, weekdays, weekend days, microseconds."""

    months: int = 0
    days: int = 0
    micros: int = 0
    weekdays: int = 0
    weekend_days: int = 0

    @classmethod
    def of(cls, amount: int | Decimal, unit: str) -> Duration:
        """`2 hours`, `1.5 days`; raises ValueError for a fractional calendar amount."""
        if unit in ("year", "month"):
            months = amount * (12 if unit == "year" else 1)
            if months != int(months):
                raise ValueError(f"a fractional number of {unit}s is not a calendar duration")
            return cls(months=int(months))
        if unit in ("week", "day"):
            days = Decimal(amount) * (7 if unit == "week" else 1)
            whole = int(days)
            micros = int((days - whole) * 86_400_000_000)
            return cls(days=whole, micros=micros)
        if unit in ("weekday", "weekend day"):
            if amount != int(amount):
                raise ValueError(f"a fractional number of {unit}s is not allowed")
            if unit == "weekday":
                return cls(weekdays=int(amount))
            return cls(weekend_days=int(amount))
        if unit == "nanosecond":
            return cls(micros=int(Decimal(amount) / 1000))
        return cls(micros=int(Decimal(amount) * _MICROS[unit]))

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.days, -self.micros, -self.weekdays, -self.weekend_days)

    def __add__(self, other: Duration) -> Duration:
        return Duration(
            self.months + other.months,
            self.days + other.days,
            self.micros + other.micros,
            self.weekdays + other.weekdays,
            self.weekend_days + other.weekend_days,
        )

    def measures(self) -> tuple[int, int, int, int]:
        """The four lengths a duration is compared by: months (a year is 12), weekdays,
        weekend days, and the fixed length in microseconds (a week is 7 days, a day 24 h).
        Two durations are equal when all four are; they are ordered when they differ in at
        most one, by that one; otherwise they are incomparable (a month is not 30 days)."""
        return (self.months, self.weekdays, self.weekend_days,
                self.days * 86_400_000_000 + self.micros)

    def fixed_micros(self) -> int | None:
        """Length in microseconds when it has no calendar parts (days count as 24 h)."""
        if self.months or self.weekdays or self.weekend_days:
            return None
        return self.days * 86_400_000_000 + self.micros

    def isoformat(self) -> str:
        """ISO-8601 duration text, e.g. `P1M2DT3H`."""
        out = "P"
        years, months = divmod(self.months, 12) if self.months >= 0 else (0, self.months)
        if years:
            out += f"{years}Y"
        if months:
            out += f"{months}M"
        days = self.days + self.weekdays + self.weekend_days
        if days:
            out += f"{days}D"
        if self.micros:
            sign = "-" if self.micros < 0 else ""
            secs, micro = divmod(abs(self.micros), 1_000_000)
            hours, rest = divmod(secs, 3600)
            minutes, seconds = divmod(rest, 60)
            out += "T"
            if hours:
                out += f"{sign}{hours}H"
            if minutes:
                out += f"{sign}{minutes}M"
            if seconds or micro:
                frac = f".{micro:06d}".rstrip("0") if micro else ""
                out += f"{sign}{seconds}{frac}S"
        return out if out != "P" else "PT0S"

    def __str__(self) -> str:
        return self.isoformat()


# ------------------------------------------------------------------------------------------
# Parsing and coercion
# ------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^[+-]?\d{4,}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?$")


@lru_cache(maxsize=64)
def zone(name: str) -> dt.tzinfo:
    """A time zone by IANA name (`UTC`, `Europe/Berlin`); raises ValueError if unknown."""
    if name.upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_date(text: str) -> dt.date | None:
    s = text.strip()
    if not _DATE_RE.match(s):
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        return None


def parse_datetime(text: str, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    """An ISO date-time; without an offset it is local time in `tz` (the evaluation zone)."""
    s = text.strip()
    if len(s) < 11 or s[10] not in "Tt ":
        return None
    try:
        value = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = normalize_local(value.replace(tzinfo=tz or CURRENT_ZONE.get()))
    return value


def parse_time(value: Any) -> tuple[dt.time, int] | None:
    """A time of day from `"12:00"`, `"12:00:30"` or an hour number; with its precision
    (1 = hours, 2 = minutes, 3 = seconds, 4 = fractions)."""
    if isinstance(value, dt.time):
        return value, 4
    if isinstance(value, int) and not isinstance(value, bool):
        return (dt.time(value), 1) if 0 <= value <= 23 else None
    if not isinstance(value, str):
        return None
    m = _TIME_RE.match(value.strip())
    if not m:
        return None
    hour, minute, second, frac = m.groups()
    try:
        t = dt.time(
            int(hour),
            int(minute or 0),
            int(second or 0),
            int((frac or ".0")[1:].ljust(6, "0")),
        )
    except ValueError:
        return None
    precision = 1 + sum(x is not None for x in (minute, second, frac))
    return t, precision


def to_temporal(value: Any) -> dt.date | None:
    """A date or datetime from a value: itself, or an ISO string; None if not convertible."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_date(value) or parse_datetime(value)
    return None


def coerce_temporal(a: Any, b: Any) -> tuple[dt.date | None, dt.date | None]:
    return to_temporal(a), to_temporal(b)


def to_instant(value: Any) -> dt.datetime | None:
    """Any date-like value as an aware instant (dates at start of day in the zone)."""
    t = to_temporal(value)
    return None if t is None else as_instant(t)


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_PARTS = frozenset({"year", "month", "day", "weekday"})
_CLOCK_PARTS = frozenset({"hour", "minute", "second", "milli", "micro", "nano"})


def part_kind(value: Any) -> dt.date | dt.time | None:
    """The date, datetime or time whose parts `value's year` and the like read: a temporal
    value itself, or an ISO string (`2024-07-23`, `2024-07-23T10:00Z`, `10:30`); else None.
    A datetime is seen in the evaluation's time zone (as `now`, `today` and `is at` are)."""
    if isinstance(value, str):
        parsed: Any = parse_date(value) or parse_datetime(value)
        if parsed is None and ":" in value:
            time = parse_time(value)
            parsed = None if time is None else time[0]
        value = parsed
    if isinstance(value, dt.datetime):
        return value.astimezone(CURRENT_ZONE.get())
    if isinstance(value, dt.date | dt.time):
        return value
    return None


def temporal_part(value: dt.date | dt.time, lowered: str) -> int | str | None:
    """`value's lowered` for a part the value has (reference §12), else None: a date has
    year, month, day, weekday; a time hour, minute, second, milli, micro, nano (each the
    whole fraction of the second in that unit); a datetime has both."""
    if lowered in _DAY_PARTS:
        if not isinstance(value, dt.date):
            return None
        if lowered == "weekday":
            return _WEEKDAYS[value.weekday()]
        return int(getattr(value, lowered))
    if lowered not in _CLOCK_PARTS or not isinstance(value, dt.datetime | dt.time):
        return None
    if lowered in ("hour", "minute", "second"):
        return int(getattr(value, lowered))
    return value.microsecond * {"milli": 1, "micro": 1000, "nano": 1_000_000}[lowered] // 1000


def normalize_local(value: dt.datetime) -> dt.datetime:
    """Resolve a wall-clock time: first occurrence on an overlap, just after on a gap."""
    tz = value.tzinfo
    if tz is None or tz is dt.UTC:
        return value
    return value.astimezone(dt.UTC).astimezone(tz)


# ------------------------------------------------------------------------------------------
# Arithmetic
# ------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    last = calendar.monthrange(year, month0 + 1)[1]
    return day.replace(year=year, month=month0 + 1, day=min(day.day, last))


def add_business(day: dt.date, count: int, weekend: bool) -> dt.date:
    """The `count`-th weekday (weekend day) after `day` (before it when negative), in
    constant time: whole weeks first (each holds 5 weekdays, 2 weekend days), then at most
    a week day by day. Raises OverflowError out of the date range."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    per_week = 2 if weekend else 5
    if remaining > per_week:
        weeks = (remaining - 1) // per_week
        day += dt.timedelta(days=step * 7 * weeks)
        remaining -= weeks * per_week
    while remaining:
        day += dt.timedelta(days=step)
        if (day.weekday() >= 5) == weekend:
            remaining -= 1
    return day


def shift(value: dt.date, d: Duration) -> dt.date:
    """`value + d` for a date or an aware datetime (raises OverflowError out of range)."""
    if isinstance(value, dt.datetime):
        tz = CURRENT_ZONE.get()
        local = value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
        day = local.date()
        day = _shift_date(day, d)
        wall = dt.datetime.combine(day, local.time().replace(fold=0), tzinfo=tz)
        result = normalize_local(wall) if (day != local.date()) else local
        if d.micros:
            result = (result.astimezone(dt.UTC) + dt.timedelta(microseconds=d.micros)).astimezone(
                tz
            )
        return result
    day = _shift_date(value, d)
    if d.micros:
        start = as_instant(day)
        return (start.astimezone(dt.UTC) + dt.timedelta(microseconds=d.micros)).astimezone(
            start.tzinfo
        )
    return day


def _shift_date(day: dt.date, d: Duration) -> dt.date:
    if d.months:
        day = add_months(day, d.months)
    if d.days:
        day = day + dt.timedelta(days=d.days)
    if d.weekdays:
        day = add_business(day, d.weekdays, weekend=False)
    if d.weekend_days:
        day = add_business(day, d.weekend_days, weekend=True)
    return day


def difference(a: dt.date, b: dt.date) -> Duration:
    """`a - b` for two dates (whole days) or two instants (exact microseconds)."""
    if not isinstance(a, dt.datetime) and not isinstance(b, dt.datetime):
        return Duration(days=(a - b).days)
    delta = as_instant(a) - as_instant(b)
    return Duration(micros=(delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


# ------------------------------------------------------------------------------------------
# Periods and unit counts
# ------------------------------------------------------------------------------------------


def this_period(period: str, now: dt.datetime, tz: dt.tzinfo) -> str | int:
    local = now.astimezone(tz)
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{local.year:04d}-{local.month:02d}"
    return local.year


_FIXED_UNITS = {
    "hours": 3_600_000_000,
    "minutes": 60_000_000,
    "seconds": 1_000_000,
    "milliseconds": 1_000,
}


def units_between(unit: str, start: dt.date, end: dt.date) -> int:
    """Complete `unit`s from `start` to `end`; negative when `end` is before `start`."""
    if unit in _FIXED_UNITS:
        delta = as_instant(end) - as_instant(start)
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return _trunc_div(micros, _FIXED_UNITS[unit])
    both_datetimes = isinstance(start, dt.datetime) and isinstance(end, dt.datetime)
    a = as_instant(start).astimezone(CURRENT_ZONE.get())
    b = as_instant(end).astimezone(CURRENT_ZONE.get())
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    if unit in ("days", "weeks"):
        days = (b.date() - a.date()).days
        if both_datetimes and b.timetz().replace(tzinfo=None) < a.timetz().replace(tzinfo=None):
            days -= 1
        return sign * (days // 7 if unit == "weeks" else days)
    if unit in ("months", "years"):
        months = (b.year - a.year) * 12 + (b.month - a.month)
        if (b.day, b.time()) < (a.day, a.time()) and months > 0:
            months -= 1
        return sign * (months // 12 if unit == "years" else months)
    return sign * count_days(a.date(), b.date(), weekend=unit == "weekend days")


def count_days(start: dt.date, end: dt.date, *, weekend: bool) -> int:
    """Weekdays (weekend days) in [start, end), in constant time: 5 (2) per whole week,
    then the remaining days of the last partial week."""
    total = (end - start).days
    if total <= 0:
        return 0
    weeks, rest = divmod(total, 7)
    count = weeks * (2 if weekend else 5)
    first = (start.weekday() + weeks * 7) % 7
    for offset in range(rest):
        if ((first + offset) % 7 >= 5) == weekend:
            count += 1
    return count


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def window_bounds(kind: str, now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) instants of a calendar window (`today`, `last week`, ...) in zone `tz`."""
    local = now.astimezone(tz)
    today = local.date()
    if kind in ("today", "yesterday"):
        start_day = today if kind == "today" else today - dt.timedelta(days=1)
        return _day_start(start_day, tz), _day_start(start_day + dt.timedelta(days=1), tz)
    if kind in ("this week", "last week"):
        monday = today - dt.timedelta(days=today.weekday())
        if kind == "last week":
            monday -= dt.timedelta(days=7)
        return _day_start(monday, tz), _day_start(monday + dt.timedelta(days=7), tz)
    if kind in ("this month", "last month"):
        first = today.replace(day=1)
        if kind == "last month":
            first = add_months(first, -1)
        return _day_start(first, tz), _day_start(add_months(first, 1), tz)
    first = today.replace(month=1, day=1)
    if kind == "last year":
        first = first.replace(year=first.year - 1)
    return _day_start(first, tz), _day_start(first.replace(year=first.year + 1), tz)


def _day_start(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return normalize_local(dt.datetime(day.year, day.month, day.day, tzinfo=tz))
