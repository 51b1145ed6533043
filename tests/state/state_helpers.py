"""Shared helpers for the state tests: a hand-driven clock and event builders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from segmentql.state import ProfileStore, StatePolicy

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


def make_store(policy: StatePolicy | None = None, **kw: Any) -> tuple[ProfileStore, ManualClock]:
    clock = ManualClock()
    return ProfileStore(policy=policy, clock=clock, **kw), clock


def identify(user: str, anon: str | None = None, **traits: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "identify", "user_id": user, "traits": traits}
    if anon is not None:
        event["anonymous_id"] = anon
    return event


def anonymize(anon: str) -> dict[str, Any]:
    return {"type": "anonymize", "anonymous_id": anon}


def ids(anon: str | None, user: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if anon is not None:
        out["anonymous_id"] = anon
    if user is not None:
        out["user_id"] = user
    return out


def patch(*ops: tuple[Any, ...], anon: str | None = None, user: str | None = None,
          target: str = "user") -> dict[str, Any]:
    operations = []
    for op in ops:
        item: dict[str, Any] = {"op": op[0], "path": op[1]}
        if len(op) > 2:
            item["value"] = op[2]
        operations.append(item)
    return {"type": "patch", "target": target, "operations": operations, **ids(anon, user)}


def track(event: str, anon: str | None = None, user: str | None = None,
          **properties: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "properties": properties, **ids(anon, user)}


def pageview(url: str, anon: str | None = None, user: str | None = None,
             **more: Any) -> dict[str, Any]:
    return track("pageOpened", anon, user, url=url, **more)
