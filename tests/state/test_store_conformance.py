"""The store conformance suite: the same behaviour on memory, SQLite and PostgreSQL.

The identity, patch, session/group/deletion and schema tests of this directory also run on all
three backends (`store_backend` in conftest.py). Here: equal results across backends, crashes,
many processes, retention, bad input, deletion with a concurrent reader, foreign files, the
layout migration and the PostgreSQL relations SQL audiences read.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from state_helpers import ManualClock, crash_batches, identify, make_store, pageview, patch, track

from segmentql.state import (
    CorruptStoreError,
    Engine,
    InvalidEventError,
    ProfileStore,
    State,
    StateError,
    StatePolicy,
    StoreError,
    parse_event,
)
from segmentql.state.errors import DeletionPendingError

HERE = Path(__file__).parent
DATA = HERE / "data"
CHILD_ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
}

DURABLE = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DURABLE)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a durable store lives: a fresh SQLite path or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
    else:
        yield request.getfixturevalue("postgres_url")


def three_stores(tmp_path: Path, postgres_url: str, **kw: Any) -> list[ProfileStore]:
    return [
        ProfileStore(**kw),
        ProfileStore.open(tmp_path / "s.db", **kw),
        ProfileStore.open(postgres_url, **kw),
    ]


def _who(state: State) -> list[dict[str, str]]:
    return [{"user_id": u} for u in state.users] + [{"anonymous_id": a} for a in state.devices]


# --- the same results everywhere ---------------------------------------------------------------


@pytest.mark.postgres
def test_every_backend_gives_the_same_state_and_snapshots(
    tmp_path: Path, postgres_url: str
) -> None:
    clock = ManualClock(datetime(2025, 6, 1, tzinfo=UTC))  # after the crash batches' times
    stores = three_stores(tmp_path, postgres_url, clock=clock,
                          policy=StatePolicy(allow_explicit_merge=True, max_events_per_profile=20))
    batches = crash_batches(seed=21, count=25)
    batches.append([{"type": "merge", "from_user_id": "user-1", "into_user_id": "user-2"}])
    batches.append([{"type": "alias", "previous_id": "user-3", "user_id": "user-3b"},
                    {"type": "page", "anonymous_id": "device-2", "name": "Home",
                     "properties": {"url": "/home"}},
                    {"type": "screen", "user_id": "user-3b", "name": "Settings"},
                    track("Song Played", user="user-3b", title="x")])
    for batch in batches:
        results = []
        for store in stores:
            try:
                results.append(store.apply(batch))
            except StateError as exc:
                results.append(str(exc))  # type: ignore[arg-type]
        assert results[0] == results[1] == results[2]
    states = [store.state for store in stores]
    assert states[0] == states[1] == states[2]
    stats = [store.stats() for store in stores]
    assert stats[0] == stats[1] == stats[2]
    for who in _who(states[0]):
        snaps = [store.snapshot(**who).to_json() for store in stores]
        assert snaps[0] == snaps[1] == snaps[2], who
    for store in stores:
        store.close()


@pytest.mark.postgres
def test_bad_input_is_rejected_identically_and_changes_nothing(
    tmp_path: Path, postgres_url: str
) -> None:
    deep: Any = "bottom"
    for _ in range(3000):
        deep = [deep]
    deep_json = '{"type": "track", "anonymous_id": "a", "event": "x", "properties": {"v": ' + (
        "[" * 3000) + ("]" * 3000) + "}}"
    bad_events: list[tuple[Any, str]] = [
        (b'{"type": "track", "anonymous_id": "a\xff", "event": "pageOpened"}', "not valid UTF-8"),
        (track("pageOpened", anon="a", title="\ud800"), "lone surrogate"),
        (track("pageOpened", anon="a\udfff"), "lone surrogate"),
        (track("pageOpened", anon="a", title="nul\x00here"), "NUL"),
        (track("pageOpened", anon="a", v=deep), "nested more than 64"),
        (deep_json, "nested more than 64"),
        (patch(("set", "tags[99999999999999999999]", 1), anon="a"), "past the end"),
        (patch(("combine", "tags", list(range(50_000))), anon="a"), "over the limit"),
        (identify("\u200bnull\ufeff", "a"), "blocklist"),
        (identify("ｎｕｌｌ", "a"), "blocklist"),
        (identify("user\x07", "a"), "control character"),
        (patch(("set", "age", "old"), anon="a"), "schema expects"),
    ]
    stores = three_stores(tmp_path, postgres_url)
    for store in stores:
        store.apply([pageview("/", anon="a"), patch(("set", "tags", [1, 2]), anon="a")])
    before = [store.state for store in stores]
    for event, reason in bad_events:
        messages = []
        for store, state in zip(stores, before, strict=True):
            with pytest.raises(StateError) as info:
                store.apply([pageview("/ok", anon="a"), event])
            assert info.value.event_index == 1
            assert store.state == state  # nothing of the batch was kept
            messages.append(str(info.value))
        assert messages[0] == messages[1] == messages[2]
        assert reason in messages[0], messages[0]
    too_many = [pageview("/", anon="a")] * (StatePolicy().max_batch_events + 1)
    for store in stores:
        with pytest.raises(InvalidEventError, match="max_batch_events"):
            store.apply(too_many)
        store.close()


# --- retention ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("store_backend")
def test_retention_keeps_the_last_events_and_exact_counters() -> None:
    store, clock = make_store(StatePolicy(max_events_per_profile=50))
    for n in range(40):
        clock.advance(minutes=1)
        store.apply([pageview(f"/{n}/{m}", anon="a") for m in range(10)]
                    + [track("orderPlaced", anon="a", total=n)])
    snap = store.snapshot(anonymous_id="a")
    assert snap["user"]["stats"] == {"sessions": 1, "pageviews": 400, "orders": 40}
    assert snap["session"]["stats"] == {"pageviews": 400, "orders": 40}
    events = snap["events"]
    assert len(events) == 50
    assert events[-1] == {"type": "orderPlaced", "timestamp": clock.now.isoformat(),
                          "sessionId": events[-1]["sessionId"], "properties": {"total": 39}}
    assert store.stats()["events"] <= 50 + 50 // 8 + 11  # trimmed in steps of an eighth


# --- crashes and many processes -------------------------------------------------------------------


def _prefix_states(batches: list[list[dict[str, Any]]]) -> list[State]:
    engine = Engine(StatePolicy())
    states = [State()]
    for batch in batches:
        state, _, _ = engine.apply_batch(states[-1], [parse_event(e) for e in batch])
        states.append(state)
    return states


def test_a_killed_writer_never_leaves_a_partial_batch(
    request: pytest.FixtureRequest, tmp_path: Path, deep: bool, target: str
) -> None:
    seed = 11
    prefixes = _prefix_states(crash_batches(seed))
    rng = random.Random(5)
    postgres = target.startswith("postgresql://")
    kills = (60 if postgres else 200) if deep else (6 if postgres else 12)
    seen = set()
    for attempt in range(kills):
        if postgres:
            where = request.getfixturevalue("postgres_server").create_database()
        else:
            where = str(tmp_path / f"crash-{attempt}.db")
        ProfileStore.open(where).close()  # created before the child starts timing
        child = subprocess.Popen(
            [sys.executable, str(HERE / "store_child.py"), "crash", where, str(seed)],
            stdout=subprocess.PIPE, env=CHILD_ENV,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"ready"
        # Kill once a chosen number of batches has committed (plus a random instant), so the
        # kills land at different points however fast the machine is; the child is then
        # usually inside the next batch's transaction.
        after = rng.randrange(0, len(prefixes) - 1)
        while after:
            line = child.stdout.readline().strip()
            if not line.startswith(b"applied ") or int(line.split()[1]) >= after:
                break
        time.sleep(rng.uniform(0.0, 0.004))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        with ProfileStore.open(where) as store:
            state = store.state
        matches = [n for n, prefix in enumerate(prefixes) if prefix == state]
        assert matches, f"attempt {attempt}: the reopened state is not a prefix of the batches"
        seen.add(matches[0])
    assert len(seen) > 1, seen  # the kills landed at different points
    print("prefixes reached:", sorted(seen))


def test_two_writer_and_two_reader_processes(tmp_path: Path, deep: bool, target: str) -> None:
    count = 300 if deep else 60
    ProfileStore.open(target).close()
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen([sys.executable, str(HERE / "store_child.py"), "reader", target,
                          str(stop)], stdout=subprocess.PIPE, env=CHILD_ENV)
        for _ in range(2)
    ]
    writers = [
        subprocess.Popen([sys.executable, str(HERE / "store_child.py"), "writer", target, name,
                          str(count)], stdout=subprocess.PIPE, env=CHILD_ENV)
        for name in ("w1", "w2")
    ]
    try:
        for child in writers:
            out, _ = child.communicate(timeout=240)
            assert child.returncode == 0 and out.strip() == b"done", out
    finally:
        stop.touch()
    reports = []
    for child in readers:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0, out  # no reader error, no torn or backward read
        reports.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert all(r["reads"] > 0 for r in reports), reports
    with ProfileStore.open(target) as store:
        user = store.snapshot(user_id="shared")["user"]
        assert user["custom"] == {"n": 2 * count, "by_w1": count, "by_w2": count}
        assert user["stats"]["pageviews"] == 2 * count
        for name in ("w1", "w2"):
            assert store.snapshot(anonymous_id=f"device-{name}")["user"]["custom"] == {
                "mine": count}


# --- deletion -----------------------------------------------------------------------------------


SECRETS = ("zq-secret-user-8841", "zq-secret-device-1177", "zq-hidden@example.org",
           "zq-secret-page", "zq-secret-order", "zq-secret-note", "zq-secret-message")


def _secret_store(path: Path) -> ProfileStore:
    user, device, email = SECRETS[:3]
    store = ProfileStore.open(path)
    for n in range(30):
        store.apply([pageview(f"/other/{n}", anon=f"other-{n}"), identify(f"u{n}", f"other-{n}")])
    store.apply([pageview("/zq-secret-page", anon=device),
                 identify(user, device, email=email),
                 track("orderPlaced", anon=device, orderId="zq-secret-order"),
                 {**patch(("set", "zqnote", "zq-secret-note"), user=user, target="session"),
                  "message_id": "zq-secret-message"}])
    return store


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def _assert_no_secret(path: Path) -> None:
    data = _file_bytes(path)
    for secret in SECRETS:
        assert secret.encode() not in data, secret
    assert b"u29" in data  # the others are still there


def test_deletion_with_a_concurrent_reader_stays_pending_until_it_can_scrub(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = _secret_store(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM profiles").fetchone()[0] > 0  # holds a snapshot
    started = time.monotonic()
    with pytest.raises(DeletionPendingError, match="pending"):
        store.delete_user(user_id=SECRETS[0], suppress=True)
    assert time.monotonic() - started < 10  # bounded wait, not a minute
    # Committed: nothing reads the user any more, and the pending scrub is in the file.
    assert "email" not in store.snapshot(user_id=SECRETS[0])["user"]
    assert store.deletion_pending
    store.close()
    with ProfileStore.open(path) as other:  # the reader still holds: open succeeds, pending
        assert other.deletion_pending
    reader.execute("COMMIT")
    reader.close()
    with ProfileStore.open(path) as again:  # open completes the scrub
        assert not again.deletion_pending
        assert again.snapshot(user_id="u3")["user"]["id"] == "u3"
    _assert_no_secret(path)


def test_deletion_waits_briefly_for_a_reader_then_leaves_no_byte(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = _secret_store(path)
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM events").fetchone()

    def finish() -> None:
        time.sleep(0.3)
        reader.execute("COMMIT")

    thread = threading.Thread(target=finish)
    thread.start()
    store.delete_user(user_id=SECRETS[0])  # waits for the reader, then scrubs
    thread.join()
    reader.close()
    assert not store.deletion_pending
    _assert_no_secret(path)
    store.complete_deletions()  # nothing pending: a no-op
    store.close()


@pytest.mark.postgres
def test_postgres_deletion_removes_every_row_of_the_user(postgres_url: str) -> None:
    import psycopg

    user, device, email = SECRETS[:3]
    with ProfileStore.open(postgres_url) as store:
        store.apply([pageview("/zq-secret-page", anon=device), identify(user, device, email=email),
                     identify("someone", "other-device")])
        store.delete_user(user_id=user)
    with psycopg.connect(postgres_url) as db:
        tables = [r[0] for r in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'segmentql_%'"
        ).fetchall()]
        assert "segmentql_profiles" in tables and "segmentql_events" in tables
        for table in tables:
            rows = db.execute(f"SELECT t::text FROM {table} t").fetchall()
            text = " ".join(r[0] for r in rows)
            for secret in SECRETS[:4]:
                assert secret not in text, (table, secret)
        assert db.execute("SELECT count(*) FROM segmentql_profiles").fetchone()[0] == 1


# --- files that are not ours, and the old layout --------------------------------------------------


def _fingerprint(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_foreign_sqlite_file_is_never_modified(tmp_path: Path, journal: str) -> None:
    folder = tmp_path / "foreign"
    folder.mkdir()
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA journal_mode={journal}")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
    db.executemany("INSERT INTO orders (total) VALUES (?)", [(n * 1.5,) for n in range(500)])
    db.commit()
    db.close()
    before = _fingerprint(folder)
    time.sleep(0.01)
    with pytest.raises(CorruptStoreError, match="not a segmentql profile store"):
        ProfileStore.open(path)
    cli = subprocess.run([sys.executable, "-m", "segmentql", "store", "stats", str(path)],
                         capture_output=True, text=True, env=CHILD_ENV, timeout=60)
    assert cli.returncode == 2 and "not a segmentql profile store" in cli.stderr, cli.stderr
    assert "Traceback" not in cli.stderr
    assert _fingerprint(folder) == before


def test_a_file_that_is_not_a_database_is_never_opened(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some notes\n" * 50)
    before = _fingerprint(tmp_path)
    with pytest.raises(CorruptStoreError, match="not an SQLite database"):
        ProfileStore.open(path)
    assert _fingerprint(tmp_path) == before


def test_the_old_layout_is_refused_with_how_to_migrate_then_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(DATA / "store-v1.db", path)
    before = _fingerprint(tmp_path)
    with pytest.raises(StoreError, match=r"segmentql store migrate .*old\.db"):
        ProfileStore.open(path)
    assert _fingerprint(tmp_path) == before
    done = subprocess.run([sys.executable, "-m", "segmentql", "store", "migrate", str(path)],
                          capture_output=True, text=True, env=CHILD_ENV, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "migrated from store layout 1 to 2" in done.stdout
    expected = json.loads((DATA / "store-v1-snapshots.json").read_text())
    with ProfileStore.open(path) as store:
        for who, snapshot in expected.items():
            kind = "anonymous_id" if who.startswith("device") else "user_id"
            assert store.snapshot(**{kind: who}).to_json() == snapshot, who
        store.apply(pageview("/after-migration", anon="device-1"))
    again = subprocess.run([sys.executable, "-m", "segmentql", "store", "migrate", str(path)],
                           capture_output=True, text=True, env=CHILD_ENV, timeout=60)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    stats = subprocess.run([sys.executable, "-m", "segmentql", "store", "stats", str(path)],
                           capture_output=True, text=True, env=CHILD_ENV, timeout=60)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["devices"] == 8


# --- the PostgreSQL relations SQL audiences read ------------------------------------------------


@pytest.mark.postgres
def test_postgres_relations_follow_every_apply(postgres_url: str) -> None:
    import psycopg

    store = ProfileStore.open(postgres_url, policy=StatePolicy(max_events_per_profile=30))
    for batch in crash_batches(seed=4, count=15):
        store.apply(batch)
    with psycopg.connect(postgres_url) as db:

        def check() -> None:
            state = store.state
            rows = {r[0]: r[1:] for r in db.execute(
                "SELECT profile_id, user_id, user_data, session_data, account_data, updated_at "
                "FROM segmentql_profiles").fetchall()}
            assert set(rows) == set(state.profiles)
            for key, profile in state.profiles.items():
                who = ({"user_id": profile.user_id} if profile.user_id is not None
                       else {"anonymous_id": profile.anonymous_ids[0]})
                snap = store.snapshot(**who).to_json()
                user_id, user_data, session_data, account_data, updated_at = rows[key]
                assert user_id == profile.user_id
                assert (user_data, session_data, account_data) == (
                    snap["user"], snap["session"], snap["account"])
                assert updated_at is not None
                events = db.execute(
                    "SELECT seq, type, timestamp, event FROM segmentql_events "
                    "WHERE profile_id = %s ORDER BY seq", (key,)).fetchall()
                assert [e[3] for e in events][-30:] == snap["events"]
                assert all(e[1] == e[3]["type"] for e in events)
                assert all(e[2].isoformat() == e[3]["timestamp"] for e in events)

        check()
        db.commit()
        with pytest.raises(StateError):
            store.apply([pageview("/x", anon="device-1"), patch(("set", "a.b", 1), anon="x")])
        check()  # a failed batch left the relations as they were
        db.commit()
        store.apply({"type": "group", "group_id": "g1", "user_id": "user-1",
                     "traits": {"plan": "gold"}})
        check()  # account_data follows the group's traits
    store.close()


def test_snapshot_accepts_request_variables_the_schema_declares() -> None:
    from segmentql.schema import Schema

    schema = Schema.default().extend({"variables": {"weather": {"fields": {"sky": "string"}}}})
    store = ProfileStore(schema=schema)
    store.apply(pageview("/", anon="a"))
    snap = store.snapshot(anonymous_id="a", weather={"sky": "clear"}, page={"url": "/x"})
    assert snap["weather"] == {"sky": "clear"} and snap["page"] == {"url": "/x"}
    with pytest.raises(TypeError, match="neither a request-time variable"):
        store.snapshot(anonymous_id="a", mood="happy")
    with pytest.raises(TypeError, match="from the store"):
        store.snapshot(anonymous_id="a", user={"id": "forged"})


def test_opening_costs_the_same_whatever_the_size(tmp_path: Path) -> None:
    """Opening reads no profile: a store with a damaged profile row still opens (the row is
    reported when that profile is read), which a whole-state load could not do."""
    path = tmp_path / "s.db"
    with ProfileStore.open(path) as store:
        store.apply([identify(f"u{n}", f"d{n}") for n in range(200)])
    db = sqlite3.connect(path)
    db.execute("UPDATE profiles SET data = 'not json' WHERE user_id = 'u7'")
    db.commit()
    db.close()
    with ProfileStore.open(path) as store:
        assert store.snapshot(user_id="u8")["user"]["id"] == "u8"
        with pytest.raises(CorruptStoreError, match="cannot be read"):
            store.snapshot(user_id="u7")


@pytest.mark.postgres
def test_the_command_line_applies_and_snapshots_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in [
        pageview("/pricing", anon="d1"), identify("u1", "d1", email="a@acme.com")]) + "\n")
    applied = subprocess.run(
        [sys.executable, "-m", "segmentql", "apply", str(events), "--store", postgres_url],
        capture_output=True, text=True, env=CHILD_ENV, timeout=120)
    assert applied.returncode == 0, applied.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "segmentql", "snapshot", "--store", postgres_url, "--user-id",
         "u1"], capture_output=True, text=True, env=CHILD_ENV, timeout=120)
    assert shown.returncode == 0, shown.stderr
    user = json.loads(shown.stdout)["user"]
    assert (user["id"], user["email"], user["stats"]["pageviews"]) == ("u1", "a@acme.com", 1)
