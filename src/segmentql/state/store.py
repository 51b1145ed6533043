"""`ProfileStore`: events in, snapshots out; in memory or durable on SQLite.

The current `State` lives in memory in both modes. `apply` computes the next state from an
immutable one, writes the rows it touched in **one SQLite transaction** (durable mode), and only
then publishes it, so readers never see a half-applied batch and a killed process leaves the
file at the last committed batch. `snapshot` reads the published state without locking.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from segmentql.state.codec import (
    decode_event,
    decode_profile,
    decode_traits,
    encode_event,
    encode_profile,
    encode_traits,
)
from segmentql.state.engine import ApplyResult, Clock, Engine, SchemaLike, utc_now
from segmentql.state.errors import CorruptStoreError, StateError, StoreError
from segmentql.state.events import EventBase, parse_event
from segmentql.state.model import Journal, Profile, State, TrackedEvent
from segmentql.state.policy import StatePolicy
from segmentql.state.snapshot import Snapshot, build_snapshot

EventInput = EventBase | Mapping[str, Any] | str | bytes

_SCHEMA_VERSION = "1"
_MARKER = "segmentql-profile-store"

_TABLES = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE profiles (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY, profile TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX events_by_profile ON events (profile, seq);
CREATE TABLE devices (anonymous_id TEXT PRIMARY KEY, profile TEXT NOT NULL);
CREATE TABLE users (user_id TEXT PRIMARY KEY, profile TEXT NOT NULL);
CREATE TABLE groups (group_id TEXT PRIMARY KEY, traits TEXT NOT NULL);
CREATE TABLE messages (digest BLOB PRIMARY KEY);
CREATE TABLE suppressed (digest BLOB PRIMARY KEY);
"""


class ProfileStore:
    """Profiles built from identify/patch/track/group events.

    `ProfileStore()` keeps everything in memory; `ProfileStore.open(path)` persists to SQLite.
    Safe to share between threads: `apply` calls are serialized, `snapshot` never blocks.
    """

    def __init__(
        self,
        *,
        policy: StatePolicy | None = None,
        schema: SchemaLike | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._engine = Engine(policy, schema)
        self._clock: Clock = clock or utc_now
        self._state = State()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._path: Path | None = None
        self._data_version: int | None = None

    # --- opening and closing -----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        policy: StatePolicy | None = None,
        schema: SchemaLike | None = None,
        clock: Clock | None = None,
    ) -> ProfileStore:
        """A store persisted in the SQLite file `path` (created if absent). A file that is not a
        readable store raises `CorruptStoreError` naming it, and is never modified."""
        store = cls(policy=policy, schema=schema, clock=clock)
        store._path = Path(path)
        store._db = _connect(store._path)
        try:
            store._state = _load(store._db, str(store._path))
            store._data_version = store._db.execute("PRAGMA data_version").fetchone()[0]
        except BaseException:
            store._db.close()
            store._db = None
            raise
        return store

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None in memory."""
        return self._path

    @property
    def policy(self) -> StatePolicy:
        return self._engine.policy

    @property
    def state(self) -> State:
        """The current immutable state."""
        return self._state

    def close(self) -> None:
        """Close the database (a no-op in memory). The store cannot apply events afterwards."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = str(self._path) if self._path else "memory"
        return f"ProfileStore({where}, profiles={len(self._state.profiles)})"

    # --- events ---------------------------------------------------------------------------------

    def apply(self, events: EventInput | Iterable[EventInput]) -> ApplyResult:
        """Apply one event or a batch, in order, atomically: an invalid event raises a
        `StateError` (with `event_index`) and nothing changes. Duplicates (by `message_id`)
        and events of suppressed ids are dropped and reported in the result."""
        batch = _as_batch(events)
        parsed: list[EventBase] = []
        for index, item in enumerate(batch):
            try:
                parsed.append(parse_event(item))
            except StateError as exc:
                raise exc.at_index(index) from None
        with self._lock:
            db = self._db
            if db is None:
                if self._path is not None:
                    raise StoreError(f"{self._path}: the store is closed")
                new_state, result, _ = self._engine.apply_batch(self._state, parsed, self._clock)
                self._state = new_state
                return result
            where = str(self._path)
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    # Inside the write lock: pick up what another process committed first.
                    self._reload_if_changed(db, where)
                    new_state, result, journal = self._engine.apply_batch(
                        self._state, parsed, self._clock
                    )
                    _write_rows(db, self._state, new_state, journal)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{where}: cannot write the store ({exc}); nothing was applied"
                ) from None
            self._state = new_state
            if journal.deleted_user:
                _scrub(db, where)
        return result

    def refresh(self) -> None:
        """Load what other processes committed to the file since this store last looked
        (`apply` does this by itself; snapshots read the state as of the last apply/refresh)."""
        with self._lock:
            db = self._db
            if db is None:
                return
            where = str(self._path)
            try:
                db.execute("BEGIN")
                try:
                    self._reload_if_changed(db, where)
                finally:
                    db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise CorruptStoreError(where, str(exc)) from None

    def _reload_if_changed(self, db: sqlite3.Connection, where: str) -> None:
        version = db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            counter = db.execute("SELECT value FROM meta WHERE name = 'counter'").fetchone()
            self._state = _read_state(db, where, int(counter[0]))
            self._data_version = version

    # --- snapshots ------------------------------------------------------------------------------

    def snapshot(
        self,
        *,
        anonymous_id: str | None = None,
        user_id: str | None = None,
        page: Any = None,
        location: Any = None,
        device: Any = None,
        browser: Any = None,
        campaign: Any = None,
        cart: Any = None,
        context: Any = None,
        now: datetime | None = None,
    ) -> Snapshot:
        """The variables a query reads for this user (`user_id` wins when both are given) or
        device. An unknown or deleted id gives an empty profile (anonymous for a device id;
        a blocked user id counts as no id). With `now`, a session idle past the timeout shows
        as a new, empty session."""
        state = self._state
        policy = self._engine.policy
        if user_id is not None and policy.blocked_reason(user_id) is not None:
            user_id = None
        key = None
        if user_id is not None:
            key = state.users.get(user_id)
        elif anonymous_id is not None:
            key = state.devices.get(anonymous_id)
        profile: Profile | None = state.profiles.get(key) if key is not None else None
        request = {
            "page": page,
            "location": location,
            "device": device,
            "browser": browser,
            "campaign": campaign,
            "cart": cart,
            "context": context,
        }
        return build_snapshot(
            profile, state.groups, policy, user_id=user_id, now=now, request=request
        )


def _as_batch(events: EventInput | Iterable[EventInput]) -> list[EventInput]:
    if isinstance(events, (EventBase, Mapping, str, bytes)):
        return [events]
    return list(events)


# --- SQLite ---------------------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    where = str(path)
    if path.is_dir():
        raise StoreError(f"{where}: is a directory, not a store file")
    try:
        db = sqlite3.connect(where, check_same_thread=False, isolation_level=None, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot open the store ({exc})") from None
    try:
        # Reading the header first: a file that is not a database fails here, before any write.
        db.execute("PRAGMA schema_version").fetchone()
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreError(f"{where}: cannot switch the store to WAL mode")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA secure_delete=ON")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise CorruptStoreError(where, str(exc)) from None
    except BaseException:
        db.close()
        raise
    return db


def _load(db: sqlite3.Connection, where: str) -> State:
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            db.execute("BEGIN IMMEDIATE")
            for statement in _TABLES.strip().split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO meta VALUES ('marker', ?)", (_MARKER,))
            db.execute("INSERT INTO meta VALUES ('version', ?)", (_SCHEMA_VERSION,))
            db.execute("INSERT INTO meta VALUES ('counter', '0')")
            db.execute("COMMIT")
            return State()
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall()) if "meta" in tables else {}
        if meta.get("marker") != _MARKER:
            raise CorruptStoreError(where, "an SQLite database, but not a segmentql profile store")
        if meta.get("version") != _SCHEMA_VERSION:
            raise CorruptStoreError(where, f"unsupported store version {meta.get('version')!r}")
        return _read_state(db, where, int(meta["counter"]))
    except sqlite3.DatabaseError as exc:
        raise CorruptStoreError(where, str(exc)) from None


def _read_state(db: sqlite3.Connection, where: str, counter: int) -> State:
    from pyrsistent import pmap, pset

    events: dict[str, list[TrackedEvent]] = {}
    for seq, key, data in db.execute("SELECT seq, profile, data FROM events ORDER BY seq"):
        try:
            events.setdefault(key, []).append(decode_event(seq, data))
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(where, f"event {seq} cannot be read: {exc}") from None
    profiles = {}
    for key, data in db.execute("SELECT key, data FROM profiles"):
        try:
            profiles[key] = decode_profile(data, events.pop(key, None))
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(where, f"profile {key!r} cannot be read: {exc}") from None
    if events:
        raise CorruptStoreError(where, f"events of a missing profile {next(iter(events))!r}")
    groups = {}
    for group_id, traits in db.execute("SELECT group_id, traits FROM groups"):
        try:
            groups[group_id] = decode_traits(traits)
        except (ValueError, TypeError) as exc:
            raise CorruptStoreError(where, f"group {group_id!r} cannot be read: {exc}") from None
    devices = dict(db.execute("SELECT anonymous_id, profile FROM devices").fetchall())
    users = dict(db.execute("SELECT user_id, profile FROM users").fetchall())
    for table, mapping in (("devices", devices), ("users", users)):
        for name, key in mapping.items():
            if key not in profiles:
                raise CorruptStoreError(where, f"{table} row {name!r} names a missing profile")
    messages = pset(bytes(row[0]) for row in db.execute("SELECT digest FROM messages"))
    suppressed = pset(bytes(row[0]) for row in db.execute("SELECT digest FROM suppressed"))
    return State(
        pmap(profiles), pmap(devices), pmap(users), pmap(groups), messages, suppressed, counter
    )


def _write_rows(db: sqlite3.Connection, old: State, state: State, journal: Journal) -> None:
    """The rows `journal` says changed between `old` and `state` (inside a transaction)."""
    for key in journal.profiles:
        profile = state.profiles.get(key)
        before = old.profiles.get(key)
        if profile is None:
            db.execute("DELETE FROM profiles WHERE key = ?", (key,))
            db.execute("DELETE FROM events WHERE profile = ?", (key,))
            continue
        db.execute("INSERT OR REPLACE INTO profiles VALUES (?, ?)", (key, encode_profile(profile)))
        _write_events(db, key, before, profile)
    for table, column, mapping, names in (
        ("devices", "anonymous_id", state.devices, journal.devices),
        ("users", "user_id", state.users, journal.users),
    ):
        for name in names:
            target = mapping.get(name)
            if target is None:
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))
            else:
                db.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (name, target))
    for group_id in journal.groups:
        db.execute(
            "INSERT OR REPLACE INTO groups VALUES (?, ?)",
            (group_id, encode_traits(state.groups[group_id])),
        )
    db.executemany("INSERT OR IGNORE INTO messages VALUES (?)", [(d,) for d in journal.messages])
    for mark in journal.suppressed:
        if mark in state.suppressed:
            db.execute("INSERT OR IGNORE INTO suppressed VALUES (?)", (mark,))
        else:
            db.execute("DELETE FROM suppressed WHERE digest = ?", (mark,))
    db.execute("UPDATE meta SET value = ? WHERE name = 'counter'", (str(state.counter),))


def _write_events(
    db: sqlite3.Connection, key: str, before: Profile | None, profile: Profile
) -> None:
    """Only the tracked events that changed: appended ones (or merged in) and trimmed ones."""
    if before is not None and before.events is profile.events:
        return
    old_seqs = {e.seq for e in before.events} if before is not None else set()
    new_seqs = set()
    rows = []
    for event in profile.events:
        new_seqs.add(event.seq)
        if event.seq not in old_seqs:
            rows.append((event.seq, key, encode_event(event)))
    # INSERT OR REPLACE: events merged in from another profile move to this one.
    db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?)", rows)
    gone = old_seqs - new_seqs
    if gone:
        db.executemany("DELETE FROM events WHERE seq = ?", [(seq,) for seq in gone])


def _scrub(db: sqlite3.Connection, where: str) -> None:
    """After a deletion: rebuild the file and empty the WAL, so no page keeps old bytes."""
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise StoreError(
            f"{where}: the deletion was committed, but compacting the file failed ({exc}); "
            "old bytes may remain until the next deletion or VACUUM"
        ) from None
