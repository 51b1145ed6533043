"""The narrow interface between `ProfileStore` and where profiles live.

A backend offers two things:

- `transact(fold)`: run `fold(view)` inside **one write transaction**. The `ReadView` reads
  profiles, identifier links, groups and message/suppression marks **by key**, as the
  transaction sees them; `fold` returns the `Changes` the batch made, and the backend writes
  exactly those rows and commits. A backend may call `fold` again (on a fresh view) when its
  database reports a conflict, so `fold` must not have other effects.
- `read(user_id=|anonymous_id=)`: one profile and the traits of its current group, read by key
  in one consistent read (never blocked by a writer).

Three implementations: `memory.MemoryBackend`, `sqlite.SQLiteBackend` (a file) and
`postgres.PostgresBackend` (a `postgresql://` URL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pyrsistent import PMap

from segmentql.state.model import Profile, State

K = TypeVar("K")
V = TypeVar("V")


class ReadView(Protocol):
    """What a batch reads, by key, inside its write transaction."""

    @property
    def counter(self) -> int:
        """The store's counter (numbers new profiles, sessions and events) before the batch."""
        ...

    def profile(self, key: str) -> Profile | None: ...

    def device(self, anonymous_id: str) -> str | None: ...

    def user(self, user_id: str) -> str | None: ...

    def group(self, group_id: str) -> PMap[str, Any] | None: ...

    def message_seen(self, digest: bytes) -> bool: ...

    def suppressed(self, digest: bytes) -> bool: ...

    def any_suppressed(self) -> bool: ...


@dataclass
class Changes:
    """Everything one batch changed: new values by key (None: removed)."""

    profiles: dict[str, Profile | None] = field(default_factory=dict)
    #: The profiles as the batch first read them (None: absent), to write only what changed.
    before: dict[str, Profile | None] = field(default_factory=dict)
    devices: dict[str, str | None] = field(default_factory=dict)
    users: dict[str, str | None] = field(default_factory=dict)
    groups: dict[str, PMap[str, Any]] = field(default_factory=dict)
    messages: set[bytes] = field(default_factory=set)
    suppressed: dict[bytes, bool] = field(default_factory=dict)
    counter: int = 0
    deleted_user: bool = False

    @property
    def empty(self) -> bool:
        return not (
            self.profiles
            or self.devices
            or self.users
            or self.groups
            or self.messages
            or self.suppressed
        )


class Fold(Protocol):
    def __call__(self, view: ReadView) -> Changes: ...


class Backend(Protocol):
    """Where a `ProfileStore` keeps its profiles."""

    #: A name for messages: a path, a URL without password, or "memory".
    where: str

    def transact(self, fold: Fold) -> Changes:
        """Run `fold` in one write transaction and commit what it returns (see module doc)."""
        ...

    def read(
        self, *, user_id: str | None, anonymous_id: str | None
    ) -> tuple[Profile | None, PMap[str, Any]]:
        """The profile `user_id` (else `anonymous_id`) resolves to, with its current group's
        traits as a one-entry map (empty when it has no group)."""
        ...

    def export_state(self) -> State:
        """Everything, as one immutable `State` (reads the whole store: for tools and tests)."""
        ...

    def stats(self) -> dict[str, int]:
        """Row counts: profiles, events, devices, users, groups."""
        ...

    def close(self) -> None: ...


class Overlay(Generic[K, V]):
    """A key-value view over a loader, with the batch's writes on top. `set` and `discard`
    mutate and return the overlay itself (so code written for persistent maps keeps working).
    `originals` holds what the loader gave for each key read (a key written without being read
    first, such as a new profile, was absent)."""

    __slots__ = ("_load", "originals", "values", "written")

    def __init__(self, load: Callable[[K], V | None]) -> None:
        self._load = load
        self.values: dict[K, V | None] = {}
        self.written: set[K] = set()
        self.originals: dict[K, V | None] = {}

    def get(self, key: K, default: Any = None) -> Any:
        values = self.values
        if key in values:
            value = values[key]
        else:
            value = self._load(key)
            values[key] = value
            self.originals[key] = value
        return default if value is None else value

    def __getitem__(self, key: K) -> V:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def set(self, key: K, value: V) -> Overlay[K, V]:
        self.values[key] = value
        self.written.add(key)
        return self

    def discard(self, key: K) -> Overlay[K, V]:
        self.values[key] = None
        self.written.add(key)
        return self

    def changes(self) -> dict[K, V | None]:
        return {key: self.values[key] for key in self.written}


class MarkSet:
    """A set of digests over a membership test, with the batch's additions and removals."""

    __slots__ = ("_any", "_test", "changes")

    def __init__(self, test: Callable[[bytes], bool], any_marks: Callable[[], bool]) -> None:
        self._test = test
        self._any = any_marks
        self.changes: dict[bytes, bool] = {}

    def __contains__(self, digest: object) -> bool:
        assert isinstance(digest, bytes)
        known = self.changes.get(digest)
        if known is not None:
            return known
        return self._test(digest)

    def add(self, digest: bytes) -> MarkSet:
        self.changes[digest] = True
        return self

    def discard(self, digest: bytes) -> MarkSet:
        self.changes[digest] = False
        return self

    def __bool__(self) -> bool:
        return any(self.changes.values()) or self._any()

    def __iter__(self) -> Iterator[bytes]:  # pragma: no cover - not used by the engine
        raise TypeError("a MarkSet is not iterable")


class StateView:
    """A `ReadView` over an immutable `State` (the pure `Engine.apply_batch`)."""

    def __init__(self, state: State) -> None:
        self._state = state

    @property
    def counter(self) -> int:
        return self._state.counter

    def profile(self, key: str) -> Profile | None:
        return self._state.profiles.get(key)

    def device(self, anonymous_id: str) -> str | None:
        return self._state.devices.get(anonymous_id)

    def user(self, user_id: str) -> str | None:
        return self._state.users.get(user_id)

    def group(self, group_id: str) -> PMap[str, Any] | None:
        return self._state.groups.get(group_id)

    def message_seen(self, digest: bytes) -> bool:
        return digest in self._state.messages

    def suppressed(self, digest: bytes) -> bool:
        return digest in self._state.suppressed

    def any_suppressed(self) -> bool:
        return bool(self._state.suppressed)


def _updated(mapping: PMap[str, Any], updates: dict[str, Any]) -> PMap[str, Any]:
    """`mapping` with `updates` made (None removes a key)."""
    evolver = mapping.evolver()
    for key, value in updates.items():  # each key once: presence is the original mapping's
        if value is not None:
            evolver[key] = value
        elif key in mapping:
            del evolver[key]
    return evolver.persistent()


def apply_changes(state: State, changes: Changes) -> State:
    """`state` with `changes` made (a new `State`; the old one is unchanged)."""
    suppressed = state.suppressed
    for mark, on in changes.suppressed.items():
        suppressed = suppressed.add(mark) if on else suppressed.discard(mark)
    return State(
        _updated(state.profiles, changes.profiles),
        _updated(state.devices, changes.devices),
        _updated(state.users, changes.users),
        state.groups.update(changes.groups),
        state.messages.update(changes.messages),
        suppressed,
        changes.counter,
    )


_ABSENT: Any = object()


def _weight(profile: Any) -> int:
    """A cache entry's share of the cache's bound: one, plus one per kept event of a profile
    (nothing for an entry not in the cache)."""
    if profile is _ABSENT:
        return 0
    return 1 if profile is None else 1 + len(profile.events)


Conn = TypeVar("Conn")


class ReaderConnections(Generic[Conn]):
    """One read connection per thread, made by `connect` on first use (or again when
    `usable` says the thread's one is not), and all closed together by `close_all`."""

    def __init__(self, connect: Callable[[], Conn],
                 usable: Callable[[Conn], bool] = lambda _: True) -> None:
        self._connect = connect
        self._usable = usable
        self._local = threading.local()
        self._all: list[Conn] = []
        self._lock = threading.Lock()

    def get(self) -> Conn:
        db: Conn | None = getattr(self._local, "db", None)
        if db is None or not self._usable(db):
            db = self._connect()
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def close_all(self) -> None:
        with self._lock:
            for db in self._all:
                db.close()  # type: ignore[attr-defined]
            self._all.clear()
        self._local = threading.local()


class ViewCache:
    """What this process last read or wrote, by key, kept across batches while no other
    process writes (the backend checks a version the database changes on every foreign
    commit, and calls `clear` when it moved). A batch then reads only what it has not seen
    yet. Bounded: past `limit` units (an entry is one, a profile one more per kept event) it
    starts over, so its memory follows the batches' working set, not the store."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.weight = 0
        self.profiles: dict[str, Profile | None] = {}
        self.devices: dict[str, str | None] = {}
        self.users: dict[str, str | None] = {}
        self.groups: dict[str, PMap[str, Any] | None] = {}
        self.messages: dict[bytes, bool] = {}

    def clear(self) -> None:
        self.weight = 0
        self.profiles.clear()
        self.devices.clear()
        self.users.clear()
        self.groups.clear()
        self.messages.clear()

    def view(self, inner: ReadView) -> CachedView:
        if self.weight > self.limit:
            self.clear()
        return CachedView(self, inner)

    def committed(self, changes: Changes) -> None:
        """Record a batch this process committed."""
        profiles = self.profiles
        for key, profile in changes.profiles.items():
            self.weight += _weight(profile) - _weight(profiles.get(key, _ABSENT))
            profiles[key] = profile
        self.weight += len(changes.devices) + len(changes.users) + len(changes.messages)
        self.devices.update(changes.devices)
        self.users.update(changes.users)
        self.groups.update(changes.groups)
        for digest in changes.messages:
            self.messages[digest] = True


class CachedView:
    """A `ReadView` answering from a `ViewCache` first."""

    def __init__(self, cache: ViewCache, inner: ReadView) -> None:
        self._cache = cache
        self._inner = inner

    @property
    def counter(self) -> int:
        return self._inner.counter

    def profile(self, key: str) -> Profile | None:
        cache = self._cache
        found = cache.profiles.get(key, _ABSENT)
        if found is _ABSENT:
            found = cache.profiles[key] = self._inner.profile(key)
            cache.weight += _weight(found)
        return found  # type: ignore[no-any-return]

    def device(self, anonymous_id: str) -> str | None:
        found = self._cache.devices.get(anonymous_id, _ABSENT)
        if found is _ABSENT:
            found = self._cache.devices[anonymous_id] = self._inner.device(anonymous_id)
            self._cache.weight += 1
        return found  # type: ignore[no-any-return]

    def user(self, user_id: str) -> str | None:
        found = self._cache.users.get(user_id, _ABSENT)
        if found is _ABSENT:
            found = self._cache.users[user_id] = self._inner.user(user_id)
            self._cache.weight += 1
        return found  # type: ignore[no-any-return]

    def group(self, group_id: str) -> PMap[str, Any] | None:
        found = self._cache.groups.get(group_id, _ABSENT)
        if found is _ABSENT:
            found = self._cache.groups[group_id] = self._inner.group(group_id)
        return found  # type: ignore[no-any-return]

    def message_seen(self, digest: bytes) -> bool:
        found = self._cache.messages.get(digest)
        if found is None:
            found = self._cache.messages[digest] = self._inner.message_seen(digest)
            self._cache.weight += 1
        return found

    def suppressed(self, digest: bytes) -> bool:
        return self._inner.suppressed(digest)

    def any_suppressed(self) -> bool:
        return self._inner.any_suppressed()
