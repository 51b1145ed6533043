"""Properties over generated event sequences: immutability, atomicity, durable == in memory."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from state_helpers import T0

from segmentql.state import ProfileStore, StateError, StatePolicy
from segmentql.state.memory import MemoryBackend

ANONS = st.sampled_from(["d1", "d2", "d3"])
USERS = st.sampled_from(["u1", "u2", "null"])  # "null" is blocked: some events are invalid
PATHS = st.sampled_from(["plan", "tags", "custom.n", "email", "address.city", "a.b[0]",
                         "Plan", "custom"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["a", "b", "A"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["k", "K"]),
                                                                inner, max_size=2),
    max_leaves=5,
)
OPS = st.sampled_from(["set", "set_once", "unset", "clear", "add", "combine", "merge",
                       "remove", "increment", "decrement"])


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["identify", "anonymize", "patch", "track", "group", "delete"]))
    anon = draw(ANONS)
    if kind == "identify":
        return {"type": "identify", "anonymous_id": anon, "user_id": draw(USERS),
                "traits": draw(st.dictionaries(st.sampled_from(["plan", "email"]), VALUES,
                                               max_size=2))}
    if kind == "anonymize":
        return {"type": "anonymize", "anonymous_id": anon}
    if kind == "patch":
        operations = []
        for _ in range(draw(st.integers(1, 3))):
            op = draw(OPS)
            item: dict[str, Any] = {"op": op, "path": draw(PATHS)}
            if op not in ("unset", "clear"):
                item["value"] = draw(VALUES)
            operations.append(item)
        return {"type": "patch", "anonymous_id": anon, "operations": operations,
                "target": draw(st.sampled_from(["user", "session"]))}
    if kind == "track":
        return {"type": "track", "anonymous_id": anon,
                "event": draw(st.sampled_from(["pageOpened", "orderPlaced", "x"])),
                "properties": {"url": draw(st.sampled_from(["/a", "/b"]))}}
    if kind == "group":
        return {"type": "group", "anonymous_id": anon, "group_id": "g",
                "traits": {"plan": draw(VALUES)}}
    return {"type": "delete_user", "user_id": draw(USERS), "suppress": draw(st.booleans())}


@st.composite
def timed_batches(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    batches = draw(st.lists(st.lists(events(), min_size=1, max_size=4), min_size=1, max_size=6))
    minute = 0
    for batch in batches:
        for event in batch:
            minute += draw(st.sampled_from([1, 10, 45]))
            event["timestamp"] = (T0 + timedelta(minutes=minute)).isoformat()
    return batches


def everything(store: ProfileStore) -> dict[str, Any]:
    return {who: store.snapshot(anonymous_id=who).to_json() for who in ("d1", "d2", "d3")} | {
        who: store.snapshot(user_id=who).to_json() for who in ("u1", "u2")}


@settings(max_examples=30)
@given(timed_batches())
def test_batches_are_atomic_and_old_states_never_change(
    batches: list[list[dict[str, Any]]],
) -> None:
    store = ProfileStore(policy=StatePolicy(allow_explicit_merge=True))
    history = []
    for batch in batches:
        before = store.state
        seen = everything(store)
        try:
            store.apply(batch)
        except StateError:
            assert store.state == before  # nothing of a failed batch is kept
        history.append((before, seen))
    # Every earlier state still gives exactly the snapshots it gave then.
    for state, seen in history:
        replay = ProfileStore(backend=MemoryBackend.from_state(state))
        assert everything(replay) == seen


@settings(max_examples=15)
@given(timed_batches())
def test_a_durable_store_matches_the_memory_store(batches: list[list[dict[str, Any]]]) -> None:
    memory = ProfileStore()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.db"
        with ProfileStore.open(path) as durable:
            for batch in batches:
                outcomes = []
                for store in (memory, durable):
                    try:
                        store.apply(batch)
                        outcomes.append(None)
                    except StateError as exc:
                        outcomes.append(str(exc))
                assert outcomes[0] == outcomes[1]
        with ProfileStore.open(path) as reopened:
            assert reopened.state == memory.state
            assert everything(reopened) == everything(memory)
