"""The identify/patch state model: events in, immutable profile snapshots out.

    store = ProfileStore()     # or ProfileStore.open("profiles.db") / ("postgresql://...")
    store.apply({"type": "identify", "anonymous_id": "a1", "user_id": "u1"})
    snapshot = store.snapshot(anonymous_id="a1")   # a Mapping of variables for queries

See `docs/state-model.md` for every event, operation, policy and decision.
"""

from __future__ import annotations

from segmentql.state.engine import ApplyResult, Dropped, Engine, Notice
from segmentql.state.errors import (
    CorruptStoreError,
    DeletionPendingError,
    InvalidEventError,
    InvalidIdentifierError,
    MergeRefusedError,
    PatchError,
    StateError,
    StoreError,
)
from segmentql.state.events import (
    Alias,
    Anonymize,
    DeleteUser,
    EventBase,
    Group,
    Identify,
    Merge,
    Operation,
    Page,
    Patch,
    Screen,
    Track,
    Unsuppress,
    parse_event,
)
from segmentql.state.model import State
from segmentql.state.policy import StatePolicy
from segmentql.state.snapshot import Snapshot
from segmentql.state.store import ProfileStore

__all__ = [
    "Alias",
    "Anonymize",
    "ApplyResult",
    "CorruptStoreError",
    "DeleteUser",
    "DeletionPendingError",
    "Dropped",
    "Engine",
    "EventBase",
    "Group",
    "Identify",
    "InvalidEventError",
    "InvalidIdentifierError",
    "Merge",
    "MergeRefusedError",
    "Notice",
    "Operation",
    "Page",
    "Patch",
    "PatchError",
    "ProfileStore",
    "Screen",
    "Snapshot",
    "State",
    "StateError",
    "StatePolicy",
    "StoreError",
    "Track",
    "Unsuppress",
    "parse_event",
]
