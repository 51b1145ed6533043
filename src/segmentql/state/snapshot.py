"""Snapshots: the immutable mapping of variables a query reads.

Representation (chosen for read speed): a `Snapshot` is a read-only `Mapping` whose values are
**fresh plain `dict`/`list` objects** built from the frozen state when the snapshot is taken.
The evaluator therefore takes its plain-dict fast path on everything below the top level, and
nothing a caller does to those objects can reach the store's state (they are never shared).
Request-time variables (`page`, `location`, ...) are included as given, not copied.
A snapshot is a `Prepared` mapping (`segmentql.runtime.prepared`): built once, it carries what
the generated code would otherwise check on every call, so store snapshots take the fast path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pyrsistent import PMap

from segmentql.runtime.prepared import Prepared
from segmentql.state.model import Profile, Session, TrackedEvent
from segmentql.state.policy import StatePolicy
from segmentql.state.values import copy_json, thaw

REQUEST_VARIABLES = ("page", "location", "device", "browser", "campaign", "cart", "context")


class Snapshot(Prepared):
    """Variables for `Query.matches`: `user`, `session`, `account`, `events` and any
    request-time variables given when it was taken. `events` is built on first access (most
    audiences never read it). A `Prepared` mapping: its `Mapping` face is the variables as
    built here; the evaluator reads each variable through a view with `custom` attributes
    resolved in front and names case-folded, built once (see `segmentql.runtime.prepared`;
    `segmentql.prepare(snapshot)` gives the plain-dict form, faster still)."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy: datetimes as ISO-8601 strings, durations as ISO-8601 `PT…S`."""
        self._build_all()
        return _jsonable(self._variables)  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "fixed_micros"):  # the evaluator's Duration
        value = timedelta(microseconds=value.fixed_micros() or 0)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        text = f"{seconds:.6f}".rstrip("0").rstrip(".")
        return f"PT{text}S"
    return value


#: `Snapshot.to_json`'s conversion of one value (the PostgreSQL rows use it too).
jsonable = _jsonable


def empty_stats() -> dict[str, int]:
    return {"sessions": 0, "pageviews": 0, "orders": 0}


def user_variable(profile: Profile | None, user_id: str | None) -> dict[str, Any]:
    if profile is None:
        user: dict[str, Any] = {"custom": {}, "stats": empty_stats()}
        if user_id is not None:
            user["id"] = user_id
        return user
    user = thaw(profile.attributes)
    if "custom" not in user:
        user["custom"] = {}
    user["stats"] = dict(profile.stats)
    if profile.user_id is not None:
        user["id"] = profile.user_id
    return user


def session_variable(
    session: Session | None, policy: StatePolicy, now: datetime | None
) -> dict[str, Any]:
    if session is None or session.ended or (now is not None and _expired(session, policy, now)):
        return {"custom": {}, "stats": {"pageviews": 0, "orders": 0}}
    return {
        "id": session.id,
        "start": session.start,
        "end": session.last_activity,
        "duration": duration_value(session.last_activity - session.start),
        "landingPage": session.landing_page,
        "referrer": session.referrer,
        "stats": {"pageviews": session.pageviews, "orders": session.orders},
        "custom": thaw(session.custom),
    }


def duration_value(delta: timedelta) -> Any:
    """A session duration as the evaluator's `Duration` (so `session's duration > 5 minutes`
    works), or a `timedelta` when the runtime is not available."""
    try:
        from segmentql.runtime.temporal import Duration
    except ImportError:  # pragma: no cover - the runtime ships with the package
        return delta
    return Duration(micros=delta // timedelta(microseconds=1))


def _expired(session: Session, policy: StatePolicy, now: datetime) -> bool:
    if now - session.last_activity >= policy.session_timeout:
        return True
    return policy.session_max_length is not None and now - session.start >= (
        policy.session_max_length
    )


def events_variable(profile: Profile | None, limit: int) -> list[dict[str, Any]]:
    if profile is None:
        return []
    events = profile.events
    if len(events) > limit:
        events = events[len(events) - limit :]
    return [
        {
            "type": event.type,
            "timestamp": event.timestamp,
            "sessionId": event.session_id,
            "properties": _properties(event),
        }
        for event in events
    ]


def _properties(event: TrackedEvent) -> dict[str, Any]:
    plain = event.plain
    if event.flat:
        return dict(plain)
    return copy_json(plain)  # type: ignore[no-any-return]


def account_variable(profile: Profile | None, groups: PMap[str, Any]) -> dict[str, Any]:
    if profile is None or not profile.groups:
        return {}
    group_id = profile.groups[-1]
    account = thaw(groups.get(group_id)) or {}
    account["id"] = group_id
    return account


def build_snapshot(
    profile: Profile | None,
    groups: PMap[str, Any],
    policy: StatePolicy,
    *,
    user_id: str | None,
    now: datetime | None,
    request: Mapping[str, Any],
) -> Snapshot:
    variables: dict[str, Any] = {
        "user": user_variable(profile, user_id),
        "session": session_variable(profile.session if profile else None, policy, now),
        "account": account_variable(profile, groups),
    }
    for name, value in request.items():
        if value is not None and name not in variables:
            variables[name] = value
    return Snapshot(variables, {"events": lambda: events_variable(profile, policy.max_events_per_profile)})
