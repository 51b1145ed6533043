"""The PostgreSQL backend (psycopg 3, the `postgres` extra): one database, many machines.

Tables (all prefixed `segmentql_`; `docs/state-model.md` describes them):

- `segmentql_meta(name, value)`: `marker`, `version`, `counter`.
- `segmentql_profile_rows`: one row per profile: its exact state (`state`, JSON text) and the
  query-facing columns `user_id`, `user_data`, `session_data` (jsonb, the snapshot's `user` and
  `session` variables), `account_group`, `updated_at`.
- `segmentql_event_rows(profile_id, seq, type, timestamp, event, raw)`: one row per kept event.
- `segmentql_devices`, `segmentql_users`, `segmentql_groups`, `segmentql_messages`,
  `segmentql_suppressed`.
- The views `segmentql_profiles` and `segmentql_events`: the relations SQL audiences read
  (the layout contract), always equal to the committed state.

A batch is one transaction that first locks the `counter` row (`SELECT ... FOR UPDATE`):
writers queue on that row lock, so no update is ever lost, and readers (one statement per
snapshot, under MVCC) never wait. Serialization failures and deadlocks are retried.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
from segmentql.state.errors import CorruptStoreError, StoreError
from segmentql.state.model import Profile, State, TrackedEvent
from segmentql.state.snapshot import build_snapshot, jsonable
from segmentql.state.sqlite import MARKER, VERSION, event_delta

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:  # pragma: no cover - the postgres extra is installed in CI
    psycopg = None  # type: ignore[assignment]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segmentql_meta (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS segmentql_profile_rows (
    profile_id text PRIMARY KEY,
    user_id text,
    user_data jsonb NOT NULL,
    session_data jsonb,
    account_group text,
    updated_at timestamptz NOT NULL,
    state text NOT NULL
);
CREATE INDEX IF NOT EXISTS segmentql_profile_rows_user ON segmentql_profile_rows (user_id);
CREATE TABLE IF NOT EXISTS segmentql_event_rows (
    seq bigint PRIMARY KEY,
    profile_id text NOT NULL,
    type text NOT NULL,
    timestamp timestamptz NOT NULL,
    event jsonb NOT NULL,
    raw text NOT NULL
);
CREATE INDEX IF NOT EXISTS segmentql_event_rows_profile ON segmentql_event_rows (profile_id, seq);
CREATE TABLE IF NOT EXISTS segmentql_devices (anonymous_id text PRIMARY KEY, profile_id text NOT NULL);
CREATE TABLE IF NOT EXISTS segmentql_users (user_id text PRIMARY KEY, profile_id text NOT NULL);
CREATE TABLE IF NOT EXISTS segmentql_groups (group_id text PRIMARY KEY, traits jsonb NOT NULL,
                                             raw text NOT NULL);
CREATE TABLE IF NOT EXISTS segmentql_messages (digest bytea PRIMARY KEY);
CREATE TABLE IF NOT EXISTS segmentql_suppressed (digest bytea PRIMARY KEY);
CREATE OR REPLACE VIEW segmentql_profiles AS
SELECT r.profile_id, r.user_id, r.user_data, r.session_data,
       CASE WHEN r.account_group IS NULL THEN '{}'::jsonb
            ELSE coalesce(g.traits, '{}'::jsonb) || jsonb_build_object('id', r.account_group)
       END AS account_data,
       r.updated_at
FROM segmentql_profile_rows r LEFT JOIN segmentql_groups g ON g.group_id = r.account_group;
CREATE OR REPLACE VIEW segmentql_events AS
SELECT profile_id, seq, type, timestamp, event FROM segmentql_event_rows;
"""

#: One statement per snapshot: a consistent read of the profile, its events and its group.
_READ = """
SELECT r.state, g.raw,
       (SELECT json_agg(json_build_array(e.seq, e.raw) ORDER BY e.seq)
        FROM segmentql_event_rows e WHERE e.profile_id = r.profile_id)
FROM {link} l
JOIN segmentql_profile_rows r ON r.profile_id = l.profile_id
LEFT JOIN segmentql_groups g ON g.group_id = r.account_group
WHERE l.{column} = %s
"""

_RETRIES = 8


def _require_psycopg() -> None:
    if psycopg is None:  # pragma: no cover
        raise StoreError(
            "a postgresql:// store needs psycopg 3 (the postgres extra): in a checkout of "
            "segmentql, python3 -m pip install -e '.[postgres]'"
        )


def redact(url: str) -> str:
    """`url` without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class _PostgresView:
    def __init__(self, cur: Any, counter: int) -> None:
        self._cur = cur
        self._counter = counter
        cur.execute("SELECT EXISTS (SELECT 1 FROM segmentql_suppressed)")
        self._any_suppressed = bool(cur.fetchone()[0])

    @property
    def counter(self) -> int:
        return self._counter

    def _one(self, sql: str, key: Any) -> Any:
        self._cur.execute(sql, (key,))
        row = self._cur.fetchone()
        return None if row is None else row[0]

    def profile(self, key: str) -> Profile | None:
        cur = self._cur
        cur.execute("SELECT state FROM segmentql_profile_rows WHERE profile_id = %s", (key,))
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute(
            "SELECT seq, raw FROM segmentql_event_rows WHERE profile_id = %s ORDER BY seq", (key,)
        )
        events = [decode_event(seq, raw) for seq, raw in cur.fetchall()]
        return decode_profile(row[0], events)

    def device(self, anonymous_id: str) -> str | None:
        found = self._one(
            "SELECT profile_id FROM segmentql_devices WHERE anonymous_id = %s", anonymous_id
        )
        return None if found is None else str(found)

    def user(self, user_id: str) -> str | None:
        found = self._one("SELECT profile_id FROM segmentql_users WHERE user_id = %s", user_id)
        return None if found is None else str(found)

    def group(self, group_id: str) -> PMap[str, Any] | None:
        raw = self._one("SELECT raw FROM segmentql_groups WHERE group_id = %s", group_id)
        return None if raw is None else decode_traits(raw)

    def message_seen(self, digest: bytes) -> bool:
        return self._one("SELECT 1 FROM segmentql_messages WHERE digest = %s", digest) is not None

    def suppressed(self, digest: bytes) -> bool:
        if not self._any_suppressed:
            return False
        return (
            self._one("SELECT 1 FROM segmentql_suppressed WHERE digest = %s", digest) is not None
        )

    def any_suppressed(self) -> bool:
        return self._any_suppressed


class PostgresBackend:
    """A store in the PostgreSQL database at `url` (its `segmentql_*` tables are created if
    absent; other tables are never touched)."""

    def __init__(self, url: str, *, policy_for_rows: Any = None) -> None:
        _require_psycopg()
        self.url = url
        self.where = redact(url)
        self._lock = threading.Lock()
        self._readers: ReaderConnections[Any] = ReaderConnections(
            self._connect_reader, lambda db: not db.closed)
        self._policy = policy_for_rows
        self._cache = ViewCache()
        self._batches: int | None = None  # segmentql_meta 'batches' after our last commit
        self._db: Any = self._connect()
        try:
            self._prepare(self._db)
        except BaseException:
            self._db.close()
            raise

    def set_policy(self, policy: Any) -> None:
        """The policy used to build the query-facing rows (the store's own)."""
        self._policy = policy

    def _connect(self) -> Any:
        try:
            return psycopg.connect(self.url, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot connect ({_first_line(exc)})") from None

    def _prepare(self, db: Any) -> None:
        try:
            with db.transaction(), db.cursor() as cur:
                # One creator at a time; other tables of the database are left alone.
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('segmentql-profile-store'))")
                cur.execute("SELECT to_regclass('segmentql_meta')")
                if cur.fetchone()[0] is not None:
                    cur.execute("SELECT name, value FROM segmentql_meta")
                    meta = dict(cur.fetchall())
                    if meta.get("marker") != MARKER:
                        raise CorruptStoreError(
                            self.where, "segmentql_meta exists but is not a segmentql store's"
                        )
                    if meta.get("version") != VERSION:
                        raise CorruptStoreError(
                            self.where, f"unsupported store version {meta.get('version')!r}"
                        )
                    return
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cur.execute(statement)
                cur.executemany(
                    "INSERT INTO segmentql_meta VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [("marker", MARKER), ("version", VERSION), ("counter", "0"),
                     ("batches", "0")],
                )
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot prepare the store ({_first_line(exc)})") from None

    def _reader(self) -> Any:
        return self._readers.get()

    def _connect_reader(self) -> Any:
        if self._db is None:
            raise StoreError(f"{self.where}: the store is closed")
        db = self._connect()
        db.autocommit = True  # each snapshot is one statement: its own consistent read
        return db

    # --- writing ---------------------------------------------------------------------------

    def transact(self, fold: Fold) -> Changes:
        with self._lock:
            if self._db is None:
                raise StoreError(f"{self.where}: the store is closed")
            try:
                return self._transact(fold)
            except BaseException:
                self._cache.clear()
                self._batches = None
                raise

    def _transact(self, fold: Fold) -> Changes:
        for attempt in range(_RETRIES):
            db = self._db
            try:
                with db.transaction(), db.cursor() as cur:
                    cur.execute(
                        "SELECT name, value FROM segmentql_meta "
                        "WHERE name IN ('batches', 'counter') ORDER BY name FOR UPDATE"
                    )
                    meta = dict(cur.fetchall())
                    counter = int(meta["counter"])
                    # Every committed batch moves 'batches': if it is where our last commit
                    # left it, what this process read before is still true.
                    batches = int(meta["batches"])
                    if batches != self._batches:
                        self._cache.clear()
                    changes = fold(self._cache.view(_PostgresView(cur, counter)))
                    if not changes.empty:
                        self._write(cur, changes)
                        batches += 1
                        cur.execute(
                            "UPDATE segmentql_meta SET value = %s WHERE name = 'batches'",
                            (str(batches),),
                        )
                self._batches = batches
                self._cache.committed(changes)
                return changes
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                self._cache.clear()
                self._batches = None
                time.sleep(0.01 * (attempt + 1))
            except psycopg.Error as exc:
                if isinstance(exc, psycopg.OperationalError) and (db.closed or db.broken):
                    self._db = self._connect()
                raise StoreError(
                    f"{self.where}: cannot write the store ({_first_line(exc)}); nothing was "
                    "applied"
                ) from None
        raise StoreError(
            f"{self.where}: the batch conflicted with other writers {_RETRIES} times; "
            "nothing was applied"
        )

    def _write(self, cur: Any, changes: Changes) -> None:
        from segmentql.state.policy import StatePolicy

        policy = self._policy or StatePolicy()
        deleted = [key for key, profile in changes.profiles.items() if profile is None]
        if deleted:
            cur.execute("DELETE FROM segmentql_profile_rows WHERE profile_id = ANY(%s)", (deleted,))
            cur.execute("DELETE FROM segmentql_event_rows WHERE profile_id = ANY(%s)", (deleted,))
        rows = []
        event_rows = []
        trims = []
        for key, profile in changes.profiles.items():
            if profile is None:
                continue
            snapshot = build_snapshot(
                profile, pmap(), policy, user_id=profile.user_id, now=None, request={}
            )
            rows.append(
                (
                    key,
                    profile.user_id,
                    _json(jsonable(snapshot["user"])),
                    _json(jsonable(snapshot["session"])),
                    profile.groups[-1] if profile.groups else None,
                    encode_profile(profile),
                )
            )
            added, trimmed_below = event_delta(changes.before.get(key), profile)
            for event in added:
                raw = encode_event(event)
                event_rows.append((event.seq, key, event.type, event.timestamp, raw, raw))
            if trimmed_below is not None:
                trims.append((key, trimmed_below))
        if rows:
            cur.executemany(
                "INSERT INTO segmentql_profile_rows VALUES (%s, %s, %s::jsonb, %s::jsonb, %s, "
                "now(), %s) ON CONFLICT (profile_id) DO UPDATE SET user_id = excluded.user_id, "
                "user_data = excluded.user_data, session_data = excluded.session_data, "
                "account_group = excluded.account_group, updated_at = excluded.updated_at, "
                "state = excluded.state",
                rows,
            )
        if event_rows:
            # ON CONFLICT: events merged in from another profile move to this one.
            cur.executemany(
                "INSERT INTO segmentql_event_rows VALUES (%s, %s, %s, %s::timestamptz, "
                "%s::jsonb, %s) ON CONFLICT (seq) DO UPDATE SET profile_id = excluded.profile_id",
                event_rows,
            )
        if trims:
            cur.executemany(
                "DELETE FROM segmentql_event_rows WHERE profile_id = %s AND seq < %s", trims
            )
        for table, column, updates in (
            ("segmentql_devices", "anonymous_id", changes.devices),
            ("segmentql_users", "user_id", changes.users),
        ):
            gone = [name for name, target in updates.items() if target is None]
            links = [(name, target) for name, target in updates.items() if target is not None]
            if gone:
                cur.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", (gone,))
            if links:
                cur.executemany(
                    f"INSERT INTO {table} VALUES (%s, %s) ON CONFLICT ({column}) "
                    "DO UPDATE SET profile_id = excluded.profile_id",
                    links,
                )
        if changes.groups:
            cur.executemany(
                "INSERT INTO segmentql_groups VALUES (%s, %s::jsonb, %s) ON CONFLICT (group_id) "
                "DO UPDATE SET traits = excluded.traits, raw = excluded.raw",
                [(g, encode_traits(t), encode_traits(t)) for g, t in changes.groups.items()],
            )
        if changes.messages:
            cur.executemany(
                "INSERT INTO segmentql_messages VALUES (%s) ON CONFLICT DO NOTHING",
                [(d,) for d in changes.messages],
            )
        for mark, on in changes.suppressed.items():
            if on:
                cur.execute(
                    "INSERT INTO segmentql_suppressed VALUES (%s) ON CONFLICT DO NOTHING", (mark,)
                )
            else:
                cur.execute("DELETE FROM segmentql_suppressed WHERE digest = %s", (mark,))
        cur.execute(
            "UPDATE segmentql_meta SET value = %s WHERE name = 'counter'", (str(changes.counter),)
        )

    # --- reading ------------------------------------------------------------------------------

    def read(
        self, *, user_id: str | None, anonymous_id: str | None
    ) -> tuple[Profile | None, PMap[str, Any]]:
        if user_id is not None:
            sql, key = _READ.format(link="segmentql_users", column="user_id"), user_id
        elif anonymous_id is not None:
            sql = _READ.format(link="segmentql_devices", column="anonymous_id")
            key = anonymous_id
        else:
            return None, pmap()
        try:
            with self._reader().cursor() as cur:
                cur.execute(sql, (key,))
                row = cur.fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot read the store ({_first_line(exc)})") from None
        if row is None:
            return None, pmap()
        state, group_raw, event_rows = row
        try:
            events = [decode_event(seq, raw) for seq, raw in event_rows or ()]
            profile = decode_profile(state, events)
            groups: PMap[str, Any] = pmap()
            if group_raw is not None and profile.groups:
                groups = pmap({profile.groups[-1]: decode_traits(group_raw)})
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(self.where, f"a row cannot be read: {exc}") from None
        return profile, groups

    def export_state(self) -> State:
        db = self._reader()
        with db.transaction(), db.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute("SELECT value FROM segmentql_meta WHERE name = 'counter'")
            counter = int(cur.fetchone()[0])
            events: dict[str, list[TrackedEvent]] = {}
            cur.execute("SELECT seq, profile_id, raw FROM segmentql_event_rows ORDER BY seq")
            for seq, key, raw in cur.fetchall():
                events.setdefault(key, []).append(decode_event(seq, raw))
            cur.execute("SELECT profile_id, state FROM segmentql_profile_rows")
            profiles = {key: decode_profile(s, events.pop(key, None)) for key, s in cur.fetchall()}
            cur.execute("SELECT group_id, raw FROM segmentql_groups")
            groups = {g: decode_traits(raw) for g, raw in cur.fetchall()}
            cur.execute("SELECT anonymous_id, profile_id FROM segmentql_devices")
            devices = dict(cur.fetchall())
            cur.execute("SELECT user_id, profile_id FROM segmentql_users")
            users = dict(cur.fetchall())
            cur.execute("SELECT digest FROM segmentql_messages")
            messages = pset(bytes(r[0]) for r in cur.fetchall())
            cur.execute("SELECT digest FROM segmentql_suppressed")
            suppressed = pset(bytes(r[0]) for r in cur.fetchall())
        return State(
            pmap(profiles), pmap(devices), pmap(users), pmap(groups), messages, suppressed,
            counter,
        )

    def stats(self) -> dict[str, int]:
        db = self._reader()
        out = {}
        with db.transaction(), db.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            for name, table in (
                ("profiles", "segmentql_profile_rows"),
                ("events", "segmentql_event_rows"),
                ("devices", "segmentql_devices"),
                ("users", "segmentql_users"),
                ("groups", "segmentql_groups"),
            ):
                cur.execute(f"SELECT count(*) FROM {table}")
                out[name] = int(cur.fetchone()[0])
        return out

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
        self._readers.close_all()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
