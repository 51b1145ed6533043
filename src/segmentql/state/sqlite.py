"""The SQLite backend: one file, any number of processes, rows read and written by key.

Layout (store version 2; `docs/state-model.md` has the full description):

- `meta(name, value)`: `marker`, `version`, `counter`, `scrub_pending`.
- `profiles(key, user_id, data)`: one JSON row per profile (without its events).
- `events(seq, profile, type, timestamp, event)`: one row per kept tracked event; `event` is the
  JSON object snapshots show.
- `devices(anonymous_id, profile)`, `users(user_id, profile)`: identifier links.
- `groups(group_id, traits)`; `messages(digest)`, `suppressed(digest)`: SHA-256 digests only.

Concurrency: the file is in WAL mode. A batch is one `BEGIN IMMEDIATE` transaction (writers
queue on SQLite's lock, waiting up to `busy_timeout`); readers use their own connection per
thread and one read transaction per snapshot, so they see whole batches and never block.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pyrsistent import PMap, pmap, pset

from segmentql.state.backend import Changes, Fold, ReaderConnections, ViewCache
from segmentql.state.codec import (
    decode_event,
    decode_profile,
    decode_traits,
    encode_event,
    encode_profile,
    encode_traits,
)
from segmentql.state.errors import CorruptStoreError, DeletionPendingError, StoreError
from segmentql.state.model import Profile, State, TrackedEvent

MARKER = "segmentql-profile-store"
VERSION = "2"
_HEADER = b"SQLite format 3\x00"

_TABLES = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE profiles (key TEXT PRIMARY KEY, user_id TEXT, data TEXT NOT NULL);
CREATE TABLE events (seq INTEGER PRIMARY KEY, profile TEXT NOT NULL, type TEXT NOT NULL,
                     timestamp TEXT NOT NULL, event TEXT NOT NULL);
CREATE INDEX events_by_profile ON events (profile, seq);
CREATE TABLE devices (anonymous_id TEXT PRIMARY KEY, profile TEXT NOT NULL);
CREATE TABLE users (user_id TEXT PRIMARY KEY, profile TEXT NOT NULL);
CREATE TABLE groups (group_id TEXT PRIMARY KEY, traits TEXT NOT NULL);
CREATE TABLE messages (digest BLOB PRIMARY KEY);
CREATE TABLE suppressed (digest BLOB PRIMARY KEY);
"""

#: How long a deletion waits for other connections' read transactions to end before it
#: reports the scrub as pending.
SCRUB_WAIT_SECONDS = 2.0


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class _SQLiteView:
    def __init__(self, db: sqlite3.Connection, counter: int) -> None:
        self._db = db
        self._counter = counter
        self._any_suppressed = db.execute("SELECT 1 FROM suppressed LIMIT 1").fetchone() is not None

    @property
    def counter(self) -> int:
        return self._counter

    def profile(self, key: str) -> Profile | None:
        return read_profile(self._db, key)

    def device(self, anonymous_id: str) -> str | None:
        row = self._db.execute(
            "SELECT profile FROM devices WHERE anonymous_id = ?", (anonymous_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def user(self, user_id: str) -> str | None:
        row = self._db.execute("SELECT profile FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return None if row is None else str(row[0])

    def group(self, group_id: str) -> PMap[str, Any] | None:
        row = self._db.execute(
            "SELECT traits FROM groups WHERE group_id = ?", (group_id,)
        ).fetchone()
        return None if row is None else decode_traits(row[0])

    def message_seen(self, digest: bytes) -> bool:
        return (
            self._db.execute("SELECT 1 FROM messages WHERE digest = ?", (digest,)).fetchone()
            is not None
        )

    def suppressed(self, digest: bytes) -> bool:
        if not self._any_suppressed:
            return False
        return (
            self._db.execute("SELECT 1 FROM suppressed WHERE digest = ?", (digest,)).fetchone()
            is not None
        )

    def any_suppressed(self) -> bool:
        return self._any_suppressed


def read_profile(db: sqlite3.Connection, key: str) -> Profile | None:
    row = db.execute("SELECT data FROM profiles WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    events = [
        decode_event(seq, text)
        for seq, text in db.execute(
            "SELECT seq, event FROM events WHERE profile = ? ORDER BY seq", (key,)
        )
    ]
    return decode_profile(row[0], events)


def _check_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(_HEADER))
    if header != _HEADER:
        raise CorruptStoreError(str(path), "not an SQLite database")


def _connect(where: str, timeout: float) -> sqlite3.Connection:
    try:
        return sqlite3.connect(
            where, check_same_thread=False, isolation_level=None, timeout=timeout
        )
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot open the store ({exc})") from None


def inspect(db: sqlite3.Connection, where: str) -> dict[str, str] | None:
    """The `meta` rows of a segmentql store, None for a database without tables, and
    `CorruptStoreError` for any other database (read only: nothing is written)."""
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall()) if "meta" in tables else {}
    except sqlite3.DatabaseError as exc:
        raise CorruptStoreError(where, str(exc)) from None
    if meta.get("marker") != MARKER:
        raise CorruptStoreError(where, "an SQLite database, but not a segmentql profile store")
    return meta


class SQLiteBackend:
    """A store in one SQLite file (created if absent or empty)."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.where = str(path)
        self._timeout = busy_timeout
        self._lock = threading.Lock()
        self._readers: ReaderConnections[sqlite3.Connection] = ReaderConnections(
            self._connect_reader)
        self._cache = ViewCache()
        self._data_version: int | None = None
        self._db: sqlite3.Connection | None = self._open()

    # --- opening --------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        path, where = self.path, self.where
        if path.is_dir():
            raise StoreError(f"{where}: is a directory, not a store file")
        if path.exists() and path.stat().st_size > 0:
            _check_header(path)  # a file that is not a database is never even opened
        db = _connect(where, self._timeout)
        try:
            meta = inspect(db, where)  # reads only: a foreign database stays byte-identical
            if meta is not None:
                _check_version(meta, where)
            _configure(db, where)
            if meta is None:
                self._create(db)
            elif meta.get("scrub_pending") == "1":
                self._scrub(db, wait=0.0)
        except BaseException:
            db.close()
            raise
        return db

    def _create(self, db: sqlite3.Connection) -> None:
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created the tables since we looked.
                if inspect(db, self.where) is None:
                    for statement in _statements(_TABLES):
                        db.execute(statement)
                    db.executemany(
                        "INSERT INTO meta VALUES (?, ?)",
                        [("marker", MARKER), ("version", VERSION), ("counter", "0"),
                         ("scrub_pending", "0")],
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self.where}: cannot create the store ({exc})") from None

    def _reader(self) -> sqlite3.Connection:
        return self._readers.get()

    def _connect_reader(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self.where}: the store is closed")
        db = _connect(self.where, self._timeout)
        db.execute("PRAGMA query_only=ON")
        return db

    # --- writing ----------------------------------------------------------------------------

    def transact(self, fold: Fold) -> Changes:
        with self._lock:
            db = self._db
            if db is None:
                raise StoreError(f"{self.where}: the store is closed")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
                    # What this process read before is still true unless another connection
                    # committed since (SQLite's data_version moves only for those commits).
                    version = db.execute("PRAGMA data_version").fetchone()[0]
                    if version != self._data_version:
                        self._cache.clear()
                        self._data_version = version
                    changes = fold(self._cache.view(_SQLiteView(db, int(meta["counter"]))))
                    if not changes.empty:
                        _write(db, changes)
                        if changes.deleted_user:
                            db.execute("UPDATE meta SET value = '1' WHERE name = 'scrub_pending'")
                    db.execute("COMMIT")
                    self._cache.committed(changes)
                except BaseException:
                    self._cache.clear()
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:
                raise StoreError(
                    f"{self.where}: cannot write the store ({exc}); nothing was applied"
                ) from None
            if changes.deleted_user or meta.get("scrub_pending") == "1":
                done = self._scrub(db, wait=SCRUB_WAIT_SECONDS if changes.deleted_user else 0.0)
                if not done and changes.deleted_user:
                    raise DeletionPendingError(
                        f"{self.where}: the user was deleted (no snapshot or query sees them), "
                        "but another connection's open read transaction keeps old pages in the "
                        "write-ahead log; the scrub is pending (recorded in the file) and "
                        "completes on the next write, open or complete_deletions() once that "
                        "reader finishes"
                    )
            return changes

    def _scrub(self, db: sqlite3.Connection, *, wait: float) -> bool:
        """Copy the WAL into the file (where `secure_delete` has zeroed deleted rows) and
        truncate it. False when a reader still uses old pages (the deletion stays pending)."""
        deadline = time.monotonic() + wait
        try:
            db.execute("PRAGMA busy_timeout = 100")
            while True:
                busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy == 0:
                    break
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE meta SET value = '0' WHERE name = 'scrub_pending'")
            db.execute("COMMIT")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return True
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            return False
        finally:
            db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    def complete_deletions(self, wait: float = SCRUB_WAIT_SECONDS) -> None:
        """Finish a pending scrub, waiting up to `wait` seconds for readers;
        `DeletionPendingError` if it still cannot."""
        with self._lock:
            db = self._db
            if db is None:
                raise StoreError(f"{self.where}: the store is closed")
            row = db.execute("SELECT value FROM meta WHERE name = 'scrub_pending'").fetchone()
            if row is not None and row[0] == "1" and not self._scrub(db, wait=wait):
                raise DeletionPendingError(
                    f"{self.where}: a reader still holds old pages; the scrub stays pending"
                )

    @property
    def deletion_pending(self) -> bool:
        row = self._reader().execute(
            "SELECT value FROM meta WHERE name = 'scrub_pending'"
        ).fetchone()
        return row is not None and row[0] == "1"

    # --- reading ------------------------------------------------------------------------------

    def read(
        self, *, user_id: str | None, anonymous_id: str | None
    ) -> tuple[Profile | None, PMap[str, Any]]:
        db = self._reader()
        try:
            db.execute("BEGIN")
            try:
                if user_id is not None:
                    row = db.execute(
                        "SELECT profile FROM users WHERE user_id = ?", (user_id,)
                    ).fetchone()
                elif anonymous_id is not None:
                    row = db.execute(
                        "SELECT profile FROM devices WHERE anonymous_id = ?", (anonymous_id,)
                    ).fetchone()
                else:
                    row = None
                profile = read_profile(db, row[0]) if row is not None else None
                groups: PMap[str, Any] = pmap()
                if profile is not None and profile.groups:
                    group_id = profile.groups[-1]
                    found = db.execute(
                        "SELECT traits FROM groups WHERE group_id = ?", (group_id,)
                    ).fetchone()
                    if found is not None:
                        groups = pmap({group_id: decode_traits(found[0])})
            finally:
                db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.where}: cannot read the store ({exc})") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(self.where, f"a row cannot be read: {exc}") from None
        return profile, groups

    def export_state(self) -> State:
        db = self._reader()
        db.execute("BEGIN")
        try:
            return read_state(db, self.where)
        finally:
            db.execute("COMMIT")

    def stats(self) -> dict[str, int]:
        db = self._reader()
        db.execute("BEGIN")
        try:
            return {
                table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("profiles", "events", "devices", "users", "groups")
            }
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        self._readers.close_all()


def _check_version(meta: dict[str, str], where: str) -> None:
    version = meta.get("version")
    if version == VERSION:
        return
    if version == "1":
        raise StoreError(
            f"{where}: a profile store in layout version 1 (segmentql before the per-profile "
            f"store); upgrade it in place with `segmentql store migrate {where}` (one "
            "transaction; nothing is lost), then open it again"
        )
    raise CorruptStoreError(where, f"unsupported store version {version!r}")


def _configure(db: sqlite3.Connection, where: str) -> None:
    try:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreError(f"{where}: cannot switch the store to WAL mode")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA secure_delete=ON")
    except sqlite3.DatabaseError as exc:
        raise CorruptStoreError(where, str(exc)) from None


def _write(db: sqlite3.Connection, changes: Changes) -> None:
    """The rows `changes` names (inside the batch's transaction)."""
    for key, profile in changes.profiles.items():
        if profile is None:
            db.execute("DELETE FROM profiles WHERE key = ?", (key,))
            db.execute("DELETE FROM events WHERE profile = ?", (key,))
            continue
        db.execute(
            "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?)",
            (key, profile.user_id, encode_profile(profile)),
        )
        added, trimmed_below = event_delta(changes.before.get(key), profile)
        if added:
            # OR REPLACE: events merged in from another profile move to this one.
            db.executemany(
                "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)",
                [(e.seq, key, e.type, e.timestamp, encode_event(e)) for e in added],
            )
        if trimmed_below is not None:
            db.execute("DELETE FROM events WHERE profile = ? AND seq < ?", (key, trimmed_below))
    for table, column, updates in (
        ("devices", "anonymous_id", changes.devices),
        ("users", "user_id", changes.users),
    ):
        for name, target in updates.items():
            if target is None:
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))
            else:
                db.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", (name, target))
    for group_id, traits in changes.groups.items():
        db.execute("INSERT OR REPLACE INTO groups VALUES (?, ?)", (group_id, encode_traits(traits)))
    if changes.messages:
        db.executemany("INSERT OR IGNORE INTO messages VALUES (?)", [(d,) for d in changes.messages])
    for mark, on in changes.suppressed.items():
        if on:
            db.execute("INSERT OR IGNORE INTO suppressed VALUES (?)", (mark,))
        else:
            db.execute("DELETE FROM suppressed WHERE digest = ?", (mark,))
    db.execute("UPDATE meta SET value = ? WHERE name = 'counter'", (str(changes.counter),))


def event_delta(
    before: Profile | None, profile: Profile
) -> tuple[list[TrackedEvent], int | None]:
    """The events of `profile` that `before` did not have, and the sequence number below which
    `before`'s events were trimmed (None: nothing trimmed). Events are ordered by `seq` and
    trimming always drops the oldest, so a bound describes every trimmed event."""
    events = profile.events
    if before is None:
        return list(events), None
    old = before.events
    if old is events:
        return [], None
    if not old:
        return list(events), None
    if not events:
        return [], old[-1].seq + 1
    if profile.merges == before.merges:
        # Only appended (and maybe trimmed): the new events are the tail past the old last.
        last = old[-1].seq
        added: list[TrackedEvent] = []
        for event in reversed(events):
            if event.seq <= last:
                break
            added.append(event)
        added.reverse()
    else:
        seen = {e.seq for e in old}
        added = [e for e in events if e.seq not in seen]
    first = events[0].seq
    return added, (first if old[0].seq < first else None)


def read_state(db: sqlite3.Connection, where: str) -> State:
    """The whole store as a `State` (inside a read transaction)."""
    counter = db.execute("SELECT value FROM meta WHERE name = 'counter'").fetchone()
    events: dict[str, list[TrackedEvent]] = {}
    for seq, key, data in db.execute("SELECT seq, profile, event FROM events ORDER BY seq"):
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
    groups = {}
    for group_id, traits in db.execute("SELECT group_id, traits FROM groups"):
        groups[group_id] = decode_traits(traits)
    devices = dict(db.execute("SELECT anonymous_id, profile FROM devices").fetchall())
    users = dict(db.execute("SELECT user_id, profile FROM users").fetchall())
    messages = pset(bytes(row[0]) for row in db.execute("SELECT digest FROM messages"))
    suppressed = pset(bytes(row[0]) for row in db.execute("SELECT digest FROM suppressed"))
    return State(
        pmap(profiles), pmap(devices), pmap(users), pmap(groups), messages, suppressed,
        int(counter[0]),
    )


def migrate(path: Path) -> str:
    """Upgrade the store file `path` to the current layout in one transaction; what was done."""
    where = str(path)
    if not path.is_file():
        raise StoreError(f"{where}: no such store file")
    _check_header(path)
    db = _connect(where, 30.0)
    try:
        meta = inspect(db, where)
        if meta is None:
            raise StoreError(f"{where}: an empty database, nothing to migrate")
        version = meta.get("version")
        if version == VERSION:
            return f"{where}: already in store layout version {VERSION}; nothing to do"
        if version != "1":
            raise CorruptStoreError(where, f"unsupported store version {version!r}")
        db.execute("BEGIN IMMEDIATE")
        try:
            profiles = db.execute("SELECT key, data FROM profiles").fetchall()
            db.execute("ALTER TABLE profiles ADD COLUMN user_id TEXT")
            for key, data in profiles:
                db.execute(
                    "UPDATE profiles SET user_id = ? WHERE key = ?",
                    (json.loads(data).get("user_id"), key),
                )
            db.execute("ALTER TABLE events RENAME TO events_v1")
            db.execute("DROP INDEX IF EXISTS events_by_profile")
            for statement in _statements(_TABLES):
                if "events" in statement.split("(")[0]:
                    db.execute(statement)
            count = 0
            for seq, key, data in db.execute(
                "SELECT seq, profile, data FROM events_v1 ORDER BY seq"
            ).fetchall():
                event = decode_event(seq, data)
                db.execute(
                    "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                    (seq, key, event.type, event.timestamp, encode_event(event)),
                )
                count += 1
            db.execute("DROP TABLE events_v1")
            db.execute("UPDATE meta SET value = ? WHERE name = 'version'", (VERSION,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('scrub_pending', '0')")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return (
            f"{where}: migrated from store layout 1 to {VERSION} "
            f"({len(profiles)} profiles, {count} events)"
        )
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{where}: migration failed, the file is unchanged ({exc})") from None
    finally:
        db.close()
