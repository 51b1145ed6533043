"""Lossless JSON encoding of profiles and group traits, for the SQLite store."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pyrsistent import PMap, pvector

from segmentql.state.model import Profile, Session, TrackedEvent
from segmentql.state.values import freeze, is_flat, thaw

#: The encoder `json.dumps(..., ensure_ascii=False, separators=(",", ":"), allow_nan=False)`
#: would build on every call (it only reuses one for its default options).
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def encode_profile(profile: Profile) -> str:
    session = profile.session
    data = {
        "key": profile.key,
        "user_id": profile.user_id,
        "attributes": thaw(profile.attributes),
        "anonymous_ids": list(profile.anonymous_ids),
        "aliases": list(profile.aliases),
        "stats": dict(profile.stats),
        "session": None
        if session is None
        else {
            "id": session.id,
            "start": session.start.isoformat(),
            "last_activity": session.last_activity.isoformat(),
            "pageviews": session.pageviews,
            "orders": session.orders,
            "landing_page": session.landing_page,
            "referrer": session.referrer,
            "custom": thaw(session.custom),
            "ended": session.ended,
        },
        "groups": list(profile.groups),
        "merges": profile.merges,
    }
    return _dumps(data)


def encode_event(event: TrackedEvent) -> str:
    """A tracked event as the JSON object snapshots show in `events` (`type`, `timestamp`,
    `sessionId`, `properties`); its sequence number and profile are columns of its row."""
    properties = event.plain
    return _dumps(
        {
            "type": event.type,
            "timestamp": event.timestamp,
            "sessionId": event.session_id,
            "properties": properties,
        }
    )


def decode_event(seq: int, text: str) -> TrackedEvent:
    """An event row: the object form above, or the `[type, timestamp, sessionId, properties]`
    array of store layout 1 (read by `segmentql store migrate`)."""
    data = json.loads(text)
    if isinstance(data, list):
        kind, stamp, session_id, properties = data
    else:
        kind = data["type"]
        stamp = data["timestamp"]
        session_id = data["sessionId"]
        properties = data["properties"]
    return TrackedEvent(seq, kind, stamp, session_id, properties, is_flat(properties))


def decode_profile(text: str, events: list[TrackedEvent] | None = None) -> Profile:
    """A profile row, with its tracked events (read from their own rows, in order)."""
    data: dict[str, Any] = json.loads(text)
    raw_session = data["session"]
    session = None
    if raw_session is not None:
        session = Session(
            id=raw_session["id"],
            start=datetime.fromisoformat(raw_session["start"]),
            last_activity=datetime.fromisoformat(raw_session["last_activity"]),
            pageviews=raw_session["pageviews"],
            orders=raw_session["orders"],
            landing_page=raw_session["landing_page"],
            referrer=raw_session["referrer"],
            custom=freeze(raw_session["custom"]),
            ended=raw_session["ended"],
        )
    return Profile(
        key=data["key"],
        user_id=data["user_id"],
        attributes=freeze(data["attributes"]),
        anonymous_ids=pvector(data["anonymous_ids"]),
        aliases=pvector(data["aliases"]),
        stats=dict(data["stats"]),
        events=pvector(events or ()),
        session=session,
        groups=pvector(data["groups"]),
        merges=data["merges"],
    )


def encode_traits(traits: PMap[str, Any]) -> str:
    return _dumps(thaw(traits))


def decode_traits(text: str) -> PMap[str, Any]:
    value = freeze(json.loads(text))
    if not isinstance(value, PMap):
        raise ValueError("group traits are not a map")
    return value
