"""Shared helpers for the state tests: a hand-driven clock and event builders."""

from __future__ import annotations

from collections.abc import Callable
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


#: Opens a store on the backend under test (set by the `store_backend` fixture); None: memory.
StoreFactory = Callable[..., ProfileStore]
_factory: StoreFactory | None = None


def use_backend(factory: StoreFactory | None) -> None:
    """Make `make_store` open its stores with `factory` (None: in memory)."""
    global _factory
    _factory = factory


def make_store(policy: StatePolicy | None = None, **kw: Any) -> tuple[ProfileStore, ManualClock]:
    """A store on the backend under test, with a clock the test moves by hand."""
    clock = ManualClock()
    if _factory is not None:
        return _factory(policy=policy, clock=clock, **kw), clock
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


def crash_batches(seed: int, count: int = 40, size: int = 15) -> list[list[dict[str, Any]]]:
    """Deterministic batches (explicit timestamps) mixing every kind of event, including
    deletions, for the crash test."""
    import random

    rng = random.Random(seed)
    batches = []
    at = T0
    for b in range(count):
        batch: list[dict[str, Any]] = []
        for _ in range(size):
            at += timedelta(minutes=rng.choice([1, 5, 40]))
            anon = f"device-{rng.randrange(8)}"
            user = f"user-{rng.randrange(5)}"
            kind = rng.random()
            if kind < 0.35:
                event = pageview(f"/page/{rng.randrange(50)}", anon=anon, title="x" * 200)
            elif kind < 0.55:
                event = patch(("increment", "visits", 1), ("add", "tags", f"t{rng.randrange(9)}"),
                              ("set", "note", "y" * rng.randrange(1, 400)), anon=anon)
            elif kind < 0.7:
                event = identify(user, anon, plan=rng.choice(["free", "pro"]))
            elif kind < 0.8:
                event = anonymize(anon)
            elif kind < 0.9:
                event = {"type": "group", "group_id": f"g{rng.randrange(3)}", "user_id": user,
                         "traits": {"size": rng.randrange(100)}}
            else:
                event = patch(("set", "plan", "x"), anon=anon, target="session")
            event["timestamp"] = at.isoformat()
            event["message_id"] = f"m-{b}-{len(batch)}"
            batch.append(event)
        if b % 10 == 9:
            batch.append({"type": "delete_user", "user_id": f"user-{rng.randrange(5)}",
                          "timestamp": at.isoformat()})
        batches.append(batch)
    return batches
