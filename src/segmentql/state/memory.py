"""The in-memory backend: plain dicts of immutable profiles, for one process.

Writers are serialized by a lock held for the whole batch; a batch's changes are published
under a second, short lock that readers also take for their two lookups, so a reader sees a
batch whole or not at all and never waits for a batch to be computed.
"""

from __future__ import annotations

import threading
from typing import Any

from pyrsistent import PMap, pmap, pset

from segmentql.state.backend import Changes, Fold
from segmentql.state.model import Profile, State


class _DictView:
    def __init__(self, backend: MemoryBackend) -> None:
        self._b = backend
        self._any_suppressed = bool(backend.suppressed)

    @property
    def counter(self) -> int:
        return self._b.counter

    def profile(self, key: str) -> Profile | None:
        return self._b.profiles.get(key)

    def device(self, anonymous_id: str) -> str | None:
        return self._b.devices.get(anonymous_id)

    def user(self, user_id: str) -> str | None:
        return self._b.users.get(user_id)

    def group(self, group_id: str) -> PMap[str, Any] | None:
        return self._b.groups.get(group_id)

    def message_seen(self, digest: bytes) -> bool:
        return digest in self._b.messages

    def suppressed(self, digest: bytes) -> bool:
        return digest in self._b.suppressed

    def any_suppressed(self) -> bool:
        return self._any_suppressed


class MemoryBackend:
    """Profiles in this process's memory; gone when it exits."""

    where = "memory"

    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}
        self.devices: dict[str, str] = {}
        self.users: dict[str, str] = {}
        self.groups: dict[str, PMap[str, Any]] = {}
        self.messages: set[bytes] = set()
        self.suppressed: set[bytes] = set()
        self.counter = 0
        self._write_lock = threading.Lock()
        self._publish_lock = threading.Lock()

    @classmethod
    def from_state(cls, state: State) -> MemoryBackend:
        """A backend holding `state` (e.g. one exported from another store)."""
        backend = cls()
        backend.profiles = dict(state.profiles)
        backend.devices = dict(state.devices)
        backend.users = dict(state.users)
        backend.groups = dict(state.groups)
        backend.messages = set(state.messages)
        backend.suppressed = set(state.suppressed)
        backend.counter = state.counter
        return backend

    def transact(self, fold: Fold) -> Changes:
        with self._write_lock:
            changes = fold(_DictView(self))
            with self._publish_lock:
                self._publish(changes)
            return changes

    def _publish(self, changes: Changes) -> None:
        for key, profile in changes.profiles.items():
            if profile is None:
                self.profiles.pop(key, None)
            else:
                self.profiles[key] = profile
        for table, updates in ((self.devices, changes.devices), (self.users, changes.users)):
            for name, target in updates.items():
                if target is None:
                    table.pop(name, None)
                else:
                    table[name] = target
        self.groups.update(changes.groups)
        self.messages.update(changes.messages)
        for mark, on in changes.suppressed.items():
            if on:
                self.suppressed.add(mark)
            else:
                self.suppressed.discard(mark)
        self.counter = changes.counter

    def read(
        self, *, user_id: str | None, anonymous_id: str | None
    ) -> tuple[Profile | None, PMap[str, Any]]:
        with self._publish_lock:
            if user_id is not None:
                key = self.users.get(user_id)
            elif anonymous_id is not None:
                key = self.devices.get(anonymous_id)
            else:
                key = None
            profile = self.profiles.get(key) if key is not None else None
            groups: PMap[str, Any] = pmap()
            if profile is not None and profile.groups:
                group_id = profile.groups[-1]
                traits = self.groups.get(group_id)
                if traits is not None:
                    groups = pmap({group_id: traits})
        return profile, groups

    def export_state(self) -> State:
        with self._publish_lock:
            return State(
                pmap(self.profiles),
                pmap(self.devices),
                pmap(self.users),
                pmap(self.groups),
                pset(self.messages),
                pset(self.suppressed),
                self.counter,
            )

    def stats(self) -> dict[str, int]:
        with self._publish_lock:
            return {
                "profiles": len(self.profiles),
                "events": sum(len(p.events) for p in self.profiles.values()),
                "devices": len(self.devices),
                "users": len(self.users),
                "groups": len(self.groups),
            }

    def close(self) -> None:
        """Nothing to release (the profiles stay readable)."""
