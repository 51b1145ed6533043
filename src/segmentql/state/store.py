"""`ProfileStore`: events in, snapshots out, over one of three backends.

- `ProfileStore()`: in this process's memory (`memory.MemoryBackend`).
- `ProfileStore.open("profiles.db")`: a SQLite file (`sqlite.SQLiteBackend`), the embedded
  default; any number of processes may open the same file.
- `ProfileStore.open("postgresql://...")`: a PostgreSQL database (`postgres.PostgresBackend`,
  the `postgres` extra), for several machines.

`apply` folds a batch over only the profiles it touches, inside one write transaction of the
backend, and commits it whole or not at all. `snapshot` reads one profile and its history by
key. Nothing is loaded at open, so opening costs the same whatever the size of the store.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from segmentql.state.backend import Backend, Changes, ReadView
from segmentql.state.engine import ApplyResult, Clock, Engine, SchemaLike, utc_now
from segmentql.state.errors import InvalidEventError, StateError, StoreError
from segmentql.state.events import EventBase, parse_event
from segmentql.state.memory import MemoryBackend
from segmentql.state.model import State
from segmentql.state.policy import StatePolicy
from segmentql.state.snapshot import REQUEST_VARIABLES, Snapshot, build_snapshot

EventInput = EventBase | Mapping[str, Any] | str | bytes

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class _DefaultSchema:
    """`Schema.default()`, built on first use (so opening a store does not import the schema
    package; the first patch checked does)."""

    def _schema(self) -> Any:
        from segmentql.schema import Schema

        return Schema.default()

    def type_at(self, variable: str, path: Sequence[str]) -> Any:
        return self._schema().type_at(variable, path)

    def variable(self, name: str) -> Any:
        return self._schema().variable(name)


_DEFAULT_SCHEMA = _DefaultSchema()


def _default_schema() -> SchemaLike:
    return _DEFAULT_SCHEMA


class ProfileStore:
    """Profiles built from identify/patch/track/group/page/screen/alias events.

    Patches are checked against `schema` (the default schema when none is given, as `compile`
    does; `validate=False` turns type checks off). Safe to share between threads.
    """

    def __init__(
        self,
        *,
        policy: StatePolicy | None = None,
        schema: SchemaLike | None = None,
        clock: Clock | None = None,
        validate: bool = True,
        backend: Backend | None = None,
    ) -> None:
        if schema is None and validate:
            schema = _default_schema()
        self._schema = schema
        self._engine = Engine(policy, schema if validate else None)
        self._clock: Clock = clock or utc_now
        self._backend: Backend = backend if backend is not None else MemoryBackend()
        self._closed = False

    # --- opening and closing -----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str],
        *,
        policy: StatePolicy | None = None,
        schema: SchemaLike | None = None,
        clock: Clock | None = None,
        validate: bool = True,
    ) -> ProfileStore:
        """A durable store: a SQLite file path (created if absent or empty) or a
        `postgresql://` URL. A file that is not a store raises `CorruptStoreError` and is never
        modified; a store in an older layout raises `StoreError` saying how to migrate it."""
        backend: Backend
        text = os.fspath(target)
        if text.startswith(_POSTGRES_SCHEMES):
            from segmentql.state.postgres import PostgresBackend

            backend = PostgresBackend(text, policy_for_rows=policy)
        else:
            from segmentql.state.sqlite import SQLiteBackend

            backend = SQLiteBackend(Path(text))
        return cls(policy=policy, schema=schema, clock=clock, validate=validate, backend=backend)

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None (memory, PostgreSQL)."""
        path = getattr(self._backend, "path", None)
        return path if isinstance(path, Path) else None

    @property
    def where(self) -> str:
        """The backend: "memory", a file path, or a URL without its password."""
        return self._backend.where

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def policy(self) -> StatePolicy:
        return self._engine.policy

    @property
    def schema(self) -> SchemaLike | None:
        return self._schema

    @property
    def state(self) -> State:
        """Everything in the store as one immutable `State`. Reads the whole store (for tools
        and tests); `snapshot` is the per-profile read."""
        return self._backend.export_state()

    def stats(self) -> dict[str, int]:
        """Row counts: profiles, events, devices, users, groups."""
        return self._backend.stats()

    def close(self) -> None:
        """Release the database connections. The store cannot be used afterwards."""
        self._closed = True
        self._backend.close()

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProfileStore({self.where})"

    # --- events ---------------------------------------------------------------------------------

    def apply(self, events: EventInput | Iterable[EventInput]) -> ApplyResult:
        """Apply one event or a batch, in order, atomically: an invalid event raises a
        `StateError` (with `event_index`) and nothing changes. Duplicates (by `message_id`)
        and events of suppressed ids are dropped and reported in the result."""
        if self._closed:
            raise StoreError(f"{self.where}: the store is closed")
        batch = _as_batch(events)
        limit = self.policy.max_batch_events
        if len(batch) > limit:
            raise InvalidEventError(
                f"a batch of {len(batch)} events is over the limit of {limit} "
                "(max_batch_events); split it"
            )
        parsed: list[EventBase] = []
        for index, item in enumerate(batch):
            try:
                parsed.append(parse_event(item))
            except StateError as exc:
                raise exc.at_index(index) from None
        results: list[ApplyResult] = []

        def fold(view: ReadView) -> Changes:
            changes, result = self._engine.fold(view, parsed, self._clock)
            results[:] = [result]
            return changes

        self._backend.transact(fold)
        return results[0]

    def delete_user(
        self,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        suppress: bool = False,
    ) -> ApplyResult:
        """Erase the profile `user_id` (else the device `anonymous_id`) resolves to: profile,
        events, device links, anonymous ids and aliases. On SQLite no byte of it stays in the
        file or its WAL; when another connection's read transaction prevents that scrub,
        `DeletionPendingError` (a `StoreError`) says so and the scrub stays pending durably.
        `suppress` drops later events carrying these ids."""
        event: dict[str, Any] = {"type": "delete_user", "suppress": suppress}
        if user_id is not None:
            event["user_id"] = user_id
        if anonymous_id is not None:
            event["anonymous_id"] = anonymous_id
        return self.apply(event)

    def complete_deletions(self, wait: float = 2.0) -> None:
        """Finish a pending deletion scrub (SQLite), waiting up to `wait` seconds for readers."""
        complete = getattr(self._backend, "complete_deletions", None)
        if complete is not None:
            complete(wait)

    @property
    def deletion_pending(self) -> bool:
        """True while a deletion's scrub is pending (SQLite; always False elsewhere)."""
        return bool(getattr(self._backend, "deletion_pending", False))

    def refresh(self) -> None:
        """Kept for compatibility: snapshots always read the latest committed state."""

    # --- snapshots ------------------------------------------------------------------------------

    def snapshot(
        self,
        *,
        anonymous_id: str | None = None,
        user_id: str | None = None,
        now: datetime | None = None,
        **variables: Any,
    ) -> Snapshot:
        """The variables a query reads for this user (`user_id` wins when both are given) or
        device, plus request-time variables given by name: `page`, `location`, `device`,
        `browser`, `campaign`, `cart`, `context`, and any other variable the store's schema
        declares. An unknown or deleted id gives an empty profile (anonymous for a device id;
        a blocked user id counts as no id). With `now`, a session idle past the timeout shows
        as a new, empty session."""
        if self._closed:
            raise StoreError(f"{self.where}: the store is closed")
        policy = self._engine.policy
        if user_id is not None and policy.blocked_reason(user_id) is not None:
            user_id = None
        request = self._request_variables(variables)
        if user_id is not None:
            profile, groups = self._backend.read(user_id=user_id, anonymous_id=None)
        elif anonymous_id is not None:
            profile, groups = self._backend.read(user_id=None, anonymous_id=anonymous_id)
        else:
            profile, groups = None, _EMPTY_GROUPS
        return build_snapshot(profile, groups, policy, user_id=user_id, now=now, request=request)

    def _request_variables(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {}
        for name, value in variables.items():
            if name not in REQUEST_VARIABLES and not self._declares(name):
                raise TypeError(
                    f"snapshot() got the variable {name!r}, which is neither a request-time "
                    f"variable ({', '.join(REQUEST_VARIABLES)}) nor declared by the store's "
                    "schema"
                )
            if name in _STORED_VARIABLES:
                raise TypeError(f"snapshot() builds {name!r} from the store; it is not an input")
            request[name] = value
        return request

    def _declares(self, name: str) -> bool:
        schema = self._schema
        variable = getattr(schema, "variable", None)
        return variable is not None and variable(name) is not None


_STORED_VARIABLES = frozenset({"user", "session", "account", "events"})


def _empty_groups() -> Any:
    from pyrsistent import pmap

    return pmap()


_EMPTY_GROUPS = _empty_groups()


def _as_batch(events: EventInput | Iterable[EventInput]) -> list[EventInput]:
    if isinstance(events, (EventBase, Mapping, str, bytes)):
        return [events]
    return list(events)
