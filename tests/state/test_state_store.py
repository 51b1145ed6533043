"""The SQLite store: exact reopen, crashes, deletion without a trace, corruption, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from state_helpers import T0, crash_batches, identify, make_store, pageview, patch, track

from segmentql.state import (
    CorruptStoreError,
    PatchError,
    ProfileStore,
)

HERE = Path(__file__).parent


def test_reopening_restores_the_exact_state(tmp_path: Path) -> None:
    path = tmp_path / "profiles.db"
    batches = crash_batches(seed=7, count=12)
    with ProfileStore.open(path) as store:
        for batch in batches:
            store.apply(batch)
        expected = store.state
        snapshot = store.snapshot(anonymous_id="device-1").to_json()
    with ProfileStore.open(path) as again:
        assert again.state == expected
        assert again.snapshot(anonymous_id="device-1").to_json() == snapshot
    memory = ProfileStore()
    for batch in batches:
        memory.apply(batch)
    assert memory.state == expected


def test_a_durable_store_keeps_messages_suppressions_and_floats(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with ProfileStore.open(path) as store:
        store.apply([{**patch(("increment", "x", 0.1), anon="a"), "message_id": "m"},
                     patch(("set", "big", 2**62), ("set", "u", "é✓"), anon="a"),
                     identify("u", "b"),
                     {"type": "delete_user", "user_id": "u", "suppress": True}])
    with ProfileStore.open(path) as store:
        again = store.apply([{**patch(("increment", "x", 0.1), anon="a"), "message_id": "m"},
                             identify("u", "c")])
        assert [d.reason for d in again.dropped] == ["duplicate", "suppressed"]
        assert store.snapshot(anonymous_id="a")["user"]["custom"] == {
            "x": 0.1, "big": 2**62, "u": "é✓"}


def test_an_invalid_batch_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with ProfileStore.open(path) as store:
        store.apply(pageview("/", anon="a"))
        before = store.state
        with pytest.raises(PatchError):
            store.apply([pageview("/2", anon="a"), patch(("set", "a.b", 1), anon="a")])
    with ProfileStore.open(path) as store:
        assert store.state == before


def test_deletion_leaves_no_trace_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    secret_user = "zq-secret-user-8841"
    secret_device = "zq-secret-device-1177"
    secret_email = "zq-hidden@example.org"
    with ProfileStore.open(path) as store:
        for n in range(30):
            store.apply([pageview(f"/other/{n}", anon=f"other-{n}"), identify(f"u{n}", f"other-{n}")])
        store.apply([pageview("/zq-secret-page", anon=secret_device),
                     identify(secret_user, secret_device, email=secret_email),
                     track("orderPlaced", anon=secret_device, orderId="zq-secret-order"),
                     {**patch(("set", "zqnote", "zq-secret-note"), user=secret_user,
                              target="session"), "message_id": "zq-secret-message"}])
        for _ in range(5):
            store.apply(patch(("increment", "visits"), user=secret_user))

        def file_bytes() -> bytes:
            return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))

        store.apply({"type": "delete_user", "user_id": secret_user, "suppress": True})
        data = file_bytes()
        for secret in (secret_user, secret_device, secret_email, "zq-secret-page",
                       "zq-secret-order", "zq-secret-note", "zq-secret-message"):
            assert secret.encode() not in data, secret
        assert b"u29" in data  # the others are still there
    with ProfileStore.open(path) as store:
        assert store.snapshot(user_id="u3")["user"]["id"] == "u3"
        assert store.apply(identify(secret_user, "new-device")).dropped


def test_a_corrupt_file_gives_a_clear_error_and_is_left_untouched(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    content = b"this is not a database" * 100
    garbage.write_bytes(content)
    with pytest.raises(CorruptStoreError, match=r"garbage\.db: not a readable segmentql store"):
        ProfileStore.open(garbage)
    assert garbage.read_bytes() == content

    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(CorruptStoreError, match="not a segmentql profile store"):
        ProfileStore.open(other)


def test_a_damaged_row_is_reported_when_read_and_the_rest_stays_readable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    with ProfileStore.open(path) as store:
        store.apply([identify("u1", "a"), identify("u2", "b")])
    db = sqlite3.connect(path)
    db.execute("UPDATE profiles SET data = '{broken' WHERE key = (SELECT profile FROM users "
               "WHERE user_id = 'u2')")
    db.commit()
    db.close()
    with ProfileStore.open(path) as store:  # opening reads no profile
        assert store.snapshot(user_id="u1")["user"]["id"] == "u1"
        with pytest.raises(CorruptStoreError, match="cannot be read"):
            store.snapshot(user_id="u2")
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM profiles").fetchone()[0] == 2
    db.close()


def test_many_threads_apply_and_read_concurrently(tmp_path: Path) -> None:
    store = ProfileStore.open(tmp_path / "s.db")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(40):
                store.apply([pageview(f"/{i}", anon=f"d{n}"),
                             patch(("increment", "count"), anon=f"d{n}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                snap = store.snapshot(anonymous_id="d0")
                assert snap["user"]["custom"].get("count", 0) == snap["user"]["stats"]["pageviews"]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(6):
        assert store.snapshot(anonymous_id=f"d{n}")["user"]["custom"]["count"] == 40
    store.close()
    with ProfileStore.open(tmp_path / "s.db") as again:
        assert again.snapshot(anonymous_id="d5")["user"]["stats"]["pageviews"] == 40


def test_a_closed_store_refuses_events(tmp_path: Path) -> None:
    from segmentql.state import StoreError

    store = ProfileStore.open(tmp_path / "s.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.apply(pageview("/", anon="a"))


def test_memory_store_clock_injection() -> None:
    store, _ = make_store()
    store.apply(pageview("/", anon="a"))
    assert store.snapshot(anonymous_id="a")["session"]["start"] == T0


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first = ProfileStore.open(path)
    second = ProfileStore.open(path)
    first.apply(patch(("increment", "n"), anon="a"))
    second.apply(patch(("increment", "n"), anon="a"))
    first.apply(patch(("increment", "n"), anon="a"))
    # Snapshots read the committed rows: no refresh, no reload.
    assert first.snapshot(anonymous_id="a")["user"]["custom"]["n"] == 3
    assert second.snapshot(anonymous_id="a")["user"]["custom"]["n"] == 3
    first.close()
    second.close()
    with ProfileStore.open(path) as again:
        assert again.snapshot(anonymous_id="a")["user"]["custom"]["n"] == 3


def test_a_truncated_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.db"
    with ProfileStore.open(path) as store:
        for n in range(200):
            store.apply(identify(f"user-{n}", f"device-{n}", note="x" * 500))
        store.apply({"type": "delete_user", "user_id": "user-0"})  # checkpoints the WAL
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptStoreError, match=r"cut\.db"):
        ProfileStore.open(path)
    assert len(path.read_bytes()) == len(data) // 2
