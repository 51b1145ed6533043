"""Event expressions: `user has [not] viewed a page with url like "x" at least 2 times
in the last 7 days`, evaluated over `variables["events"]`.

Each event is a mapping `{"type", "timestamp", "sessionId", "properties"}`. Criteria read
the event's `properties` (paths case-insensitive, dotted paths for nested maps); windows
are computed from the evaluation's `now` and time zone. An event whose criteria fail with
an error does not count; if the result would be false and such an error happened, the
result is that error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.runtime.access import read_attribute
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.predicates import (
    contains,
    contains_all,
    contains_either,
    contains_none,
    ends_with,
    equal_mode,
    greater,
    greater_equal,
    is_in,
    less,
    less_equal,
    like,
    starts_with,
)
from segmentql.runtime.temporal import Duration, shift, window_bounds
from segmentql.runtime.values import a_kind, is_list


def read_path(properties: Any, path: tuple[str, ...]) -> Any:
    value = properties
    for name in path:
        value = read_attribute(value, name, name.lower())
        if value is None or value.__class__ is ErrorValue:
            return value
    return value


_CRITERIA: dict[str, Callable[..., Any]] = {
    "equal to": lambda a, b, s: equal_mode(a, b, None),
    "greater than": greater,
    "greater than or equal to": greater_equal,
    "less than": less,
    "less than or equal to": less_equal,
    "starting with": starts_with,
    "ending with": ends_with,
    "like": like,
    "in": is_in,
    "containing": contains,
    "containing all of": contains_all,
    "containing none of": contains_none,
    "containing either": contains_either,
    "containing neither": contains_none,
}


def criterion(properties: Any, path: tuple[str, ...], op: str, value: Any, span: Span) -> Any:
    """One criterion on one event's properties: True, False or an error value."""
    got = read_path(properties, path)
    if got.__class__ is ErrorValue:
        return got
    result = _CRITERIA[op](got, value, span)
    return False if result is None else result


def _timestamp(event: Mapping[str, Any]) -> dt.datetime | None:
    ts = event.get("timestamp")
    if isinstance(ts, dt.datetime):
        return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return dt.datetime.fromtimestamp(ts / 1000 if ts > 1e11 else ts, dt.UTC)
    if isinstance(ts, str):
        try:
            value = dt.datetime.fromisoformat(ts.strip())
        except ValueError:
            return None
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


@dataclass
class EventSeen:
    """One event of the expression's type, as `explain` reports it.

    `status`: "matched", "not matched", "error" (a criterion failed with an error),
    "outside the window", "another session", "another name" (goal id, event name or
    interests differ), "no timestamp" (the window cannot place it). `item` is the position
    of the order item for `ordered a product`, else None.
    """

    index: int
    timestamp: dt.datetime | None
    status: str = "not matched"
    item: int | None = None
    #: Each criterion's span and its value on this event, in evaluation order.
    criteria: list[tuple[Span, Any]] = field(default_factory=list)


@dataclass
class EventReport:
    """What one event expression did on one evaluation: the window, every event of its type,
    and the count against the threshold. Filled only by `explain`."""

    kind: str
    window: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    session: Any = None
    events: list[EventSeen] = field(default_factory=list)
    count_op: str = "at least"
    times: Any = 1
    matched: int = 0
    unknown: int = 0
    current: EventSeen | None = None
    #: For `shown interest in all of|none of|neither`: the interests shown in the window,
    #: and the topics the test wants (the result compares these, not a count).
    interests: list[Any] | None = None
    wanted: list[Any] | None = None

    def criterion(self, span: Span, value: Any) -> Any:
        """Note a criterion's value on the event being tested; returns the value."""
        if self.current is not None:
            self.current.criteria.append((span, value))
        return value


class EventQuery:
    """The constant parts of one event expression, built once at compile time."""

    __slots__ = ("argument_key", "count_op", "determiner", "kind", "link_parts", "negated",
                 "span", "window")

    def __init__(
        self,
        kind: str,
        *,
        negated: bool,
        determiner: str | None,
        count_op: str,
        window: str | None,
        span: Span = NO_SPAN,
        link_parts: bool = False,
    ) -> None:
        self.kind = kind
        #: Whether criteria read a link's `path`, `query` or `anchor` (derived from `link`).
        self.link_parts = link_parts and kind == "linkOpened"
        self.negated = negated
        self.determiner = determiner
        self.count_op = count_op
        self.window = window
        self.span = span
        self.argument_key = {"eventOccurred": "name", "goalCompleted": "goalId",
                             "linkOpened": "link"}.get(kind)

    def run(
        self,
        events: Any,
        argument: Any,
        criteria: Callable[[Any], Any] | None,
        times: Any,
        window_duration: Duration | None,
        session_id: Any,
        now: dt.datetime,
        tz: dt.tzinfo,
        report: EventReport | None = None,
    ) -> Any:
        if report is not None:
            report.kind = self.kind
        result = self._positive(
            events, argument, criteria, times, window_duration, session_id, now, tz, report
        )
        if self.negated and (result is True or result is False):
            return not result
        return result

    def _positive(
        self,
        events: Any,
        argument: Any,
        criteria: Callable[[Any], Any] | None,
        times: Any,
        window_duration: Duration | None,
        session_id: Any,
        now: dt.datetime,
        tz: dt.tzinfo,
        report: EventReport | None,
    ) -> Any:
        for v in (argument, times):
            if v.__class__ is ErrorValue:
                return v
        if times is None:
            times = 1
        if not isinstance(times, int) or isinstance(times, bool) or times < 0:
            return ErrorValue("Q301", f"an event count must be a whole number, got {times!r}",
                              self.span)
        if events is None:
            events = ()
        if not isinstance(events, Sequence) or isinstance(events, str):
            return ErrorValue("Q301", f"'events' must be a list, got {a_kind(events)}",
                              self.span)
        if report is not None:
            report.count_op, report.times = self.count_op, times
        selected = self._in_window(events, window_duration, session_id, now, tz, report)
        if selected.__class__ is ErrorValue:
            return selected
        sure, doubtful, error = selected
        interests: list[Any] = []
        doubtful_interests = False
        matched = unknown = 0
        pending = None if report is None else [
            e for e in report.events if e.status in ("not matched", "no timestamp")
        ]
        for n, (props, certain) in enumerate(
            [*((p, True) for p in sure), *((p, False) for p in doubtful)]
        ):
            seen = None
            if pending is not None and report is not None:
                seen = report.current = pending[n]
            if self.argument_key is not None and argument is not None:
                got = read_attribute(props, self.argument_key, self.argument_key.lower())
                if not ((isinstance(got, str) and isinstance(argument, str) and got == argument)
                        or equal_mode(got, argument, None) is True):
                    if seen is not None:
                        seen.status = "another name"
                    continue
            if self.kind == "interestShown" and argument is not None:
                topics = read_attribute(props, "interests", "interests")
                wanted = argument if is_list(argument) else [argument]
                relevant = contains_either(topics, wanted, self.span) is True
                if is_list(topics):
                    if certain:
                        interests.extend(topics)
                    elif relevant:
                        doubtful_interests = True
                if self.determiner in (None, "any", "either") and not relevant:
                    if seen is not None:
                        seen.status = "another name"
                    continue
            if criteria is not None:
                ok = criteria(props)
                if ok.__class__ is ErrorValue:
                    error = error or ok
                    unknown += 1
                    if seen is not None:
                        seen.status = "error"
                    continue
                if ok is not True:
                    continue
            if certain:
                matched += 1
            else:
                unknown += 1
            if seen is not None and certain:
                seen.status = "matched"
        if report is not None:
            report.current = None
            report.matched, report.unknown = matched, unknown
        if self.kind == "interestShown" and self.determiner in ("all of", "none of", "neither"):
            wanted = argument if is_list(argument) else [argument]
            if report is not None:
                report.interests, report.wanted = list(interests), list(wanted)
                for seen_event in report.events:
                    if seen_event.status == "matched":
                        seen_event.status = "considered"
            if self.determiner == "all of":
                result = contains_all(interests, wanted, self.span)
                undecided = result is False
            else:
                result = contains_none(interests, wanted, self.span)
                undecided = result is True
            if undecided and doubtful_interests and error is not None:
                return error
            return result
        decided = _count_test(self.count_op, times, matched, unknown)
        return error if decided is None else decided

    def _in_window(
        self,
        events: Sequence[Any],
        window_duration: Duration | None,
        session_id: Any,
        now: dt.datetime,
        tz: dt.tzinfo,
        report: EventReport | None = None,
    ) -> Any:
        """The properties of the events of this kind inside the window, in order.

        With `report`, every event of this kind is noted there: those inside the window
        in the order of the properties returned (certain ones first), then the others."""
        kind = "orderPlaced" if self.kind == "productOrdered" else self.kind
        window = self.window
        start: dt.datetime | None = None
        end: dt.datetime | None = None
        session: Any = _NO_SESSION
        if window in ("this session", "last session"):
            session = _session_for(events, session_id, window == "last session")
        elif window == "in the last":
            if window_duration is None:
                return ErrorValue("Q310", "a window needs a duration", self.span)
            end = now
            try:
                start = shift(now, -window_duration)  # type: ignore[assignment]
            except (OverflowError, ValueError):
                return ErrorValue("Q305", "window out of range", self.span)
        elif window is not None:
            start, end = window_bounds(window, now, tz)
        out: list[Any] = []
        doubtful: list[Any] = []  # events whose timestamp cannot be read
        error: ErrorValue | None = None
        if report is not None:
            report.window, report.start, report.end = window, start, end
            if session is not _NO_SESSION:
                report.session = session if isinstance(session, str | int) else None
            return self._noted(events, kind, session, start, end, report)
        for event in events:
            if not isinstance(event, Mapping) or event.get("type") != kind:
                continue
            if session is not _NO_SESSION:
                sid = event.get("sessionId")
                if sid is None or sid.__class__ is not session.__class__ or sid != session:
                    continue
            into = out
            if start is not None:
                ts = _timestamp(event)
                if ts is None:
                    error = error or ErrorValue(
                        "Q310", "an event has no valid timestamp", self.span
                    )
                    into = doubtful
                elif ts < start or (ts > end if window == "in the last" else ts >= end):  # type: ignore[operator]
                    continue
            props = event.get("properties")
            if props is None:
                props = {}
            if self.kind == "productOrdered":
                items = read_attribute(props, "items", "items")
                if is_list(items):
                    into.extend(items)
                continue
            if self.link_parts:
                props = link_properties(props)
            into.append(props)
        return out, doubtful, error

    def _noted(
        self,
        events: Sequence[Any],
        kind: str,
        session: Any,
        start: dt.datetime | None,
        end: dt.datetime | None,
        report: EventReport,
    ) -> Any:
        """`_in_window` for `explain`: the same selection, every event of the kind noted."""
        out: list[Any] = []
        doubtful: list[Any] = []
        sure_seen: list[EventSeen] = []
        doubtful_seen: list[EventSeen] = []
        others: list[EventSeen] = []
        error: ErrorValue | None = None
        for index, event in enumerate(events):
            if not isinstance(event, Mapping) or event.get("type") != kind:
                continue
            ts = _timestamp(event)
            into, seen_into = out, sure_seen
            if session is not _NO_SESSION:
                sid = event.get("sessionId")
                if sid is None or sid.__class__ is not session.__class__ or sid != session:
                    others.append(EventSeen(index, ts, "another session"))
                    continue
            if start is not None:
                if ts is None:
                    error = error or ErrorValue(
                        "Q310", "an event has no valid timestamp", self.span
                    )
                    into, seen_into = doubtful, doubtful_seen
                elif end is not None and (
                    ts < start or (ts > end if self.window == "in the last" else ts >= end)
                ):
                    others.append(EventSeen(index, ts, "outside the window"))
                    continue
            status = "not matched" if into is out else "no timestamp"
            props = event.get("properties")
            if props is None:
                props = {}
            if self.kind == "productOrdered":
                items = read_attribute(props, "items", "items")
                if is_list(items):
                    into.extend(items)
                    seen_into.extend(EventSeen(index, ts, status, i) for i in range(len(items)))
                continue
            if self.link_parts:
                props = link_properties(props)
            into.append(props)
            seen_into.append(EventSeen(index, ts, status))
        report.events = [*sure_seen, *doubtful_seen, *others]
        return out, doubtful, error


_LINK_PARTS = ("path", "query", "anchor")


def link_properties(props: Any) -> Any:
    """A link event's properties with `path`, `query` and `anchor` read from its `link`
    when the event does not carry them: `https://croct.com/blog?a=1#top` has path `/blog`,
    query `a=1` and anchor `top`. A link without a scheme (`croct.com/blog`) starts with its
    host. An absent part is null."""
    if not isinstance(props, Mapping):
        return props
    link = read_attribute(props, "link", "link")
    if not isinstance(link, str):
        return props
    missing = [k for k in _LINK_PARTS if read_attribute(props, k, k) is None]
    if not missing:
        return props
    text = link.strip()
    if "://" not in text and not text.startswith(("/", "?", "#")):
        text = "//" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return props
    found = {"path": parts.path, "query": parts.query, "anchor": parts.fragment}
    return {**props, **{k: found[k] or None for k in missing}}


def _count_test(count_op: str, times: int, matched: int, unknown: int) -> bool | None:
    """The count test when `matched` events surely match and `unknown` more may: its value
    if every possible count gives the same one, else None (the result is then the error)."""
    low, high = matched, matched + unknown
    if count_op == "exactly":
        if not low <= times <= high:
            return False
        return True if low == high else None
    if count_op == "at most":
        if high <= times:
            return True
        return False if low > times else None
    if low >= times:
        return True
    return False if high < times else None


_NO_SESSION: Any = object()


def _session_for(events: Sequence[Any], current: Any, previous: bool) -> Any:
    """The current session id, or the session before it in event order."""
    try:
        hash(current)
    except TypeError:  # not an id at all: no session matches
        return object()
    if not previous:
        return current
    position: dict[Any, int] = {}  # session id -> rank of its first event
    for event in events:
        if isinstance(event, Mapping):
            sid = event.get("sessionId")
            if sid is not None and not isinstance(sid, list | dict) and sid not in position:
                position[sid] = len(position)
    order = list(position)
    if current in position:
        i = position[current]
        return order[i - 1] if i > 0 else object()
    return order[-1] if order else object()
