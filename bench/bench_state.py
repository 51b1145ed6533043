"""Profile store benchmark, per backend, next to a hand-written dict fold of the same events.

    python bench/bench_state.py              # full run (the 100k-user store takes minutes)
    python bench/bench_state.py --quick      # smaller counts, about a minute
    python bench/bench_state.py --no-large   # skip the 100k-user / 1M-event store

Part 1, throughput: a mixed identify/patch/track stream over 1,000 users, applied to each
backend (memory, SQLite, PostgreSQL on a throwaway local server) in batches of 500, and folded
by `dict_fold` (plain dicts, no validation, no history bound, no durability) in the same run.

Part 2, a large store: 100,000 users and 1,000,000 events in SQLite (written with the bulk
path `bulk_sqlite_store`, its time printed), then in a fresh process: open time, median
snapshot time over 1,000 random users, and the process's RSS after those snapshots.

Throughput is events / wall-clock seconds of this process with the machine's load average
printed beside it (the machine is shared); the ratio to the dict fold in the same run is the
comparable figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"memory": 50_000, "sqlite": 20_000, "postgres": 5_000}


def make_events(count: int, users: int, seed: int = 1) -> list[dict[str, Any]]:
    """identify (10%), patch (30%) and track (60%: page views and orders) over `users` users,
    each on its own device."""
    rng = random.Random(seed)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for n in range(count):
        at += timedelta(seconds=rng.randrange(1, 30))
        person = rng.randrange(users)
        device = f"device-{person}"
        roll = rng.random()
        if roll < 0.10:
            event: dict[str, Any] = {"type": "identify", "anonymous_id": device,
                                     "user_id": f"user-{person}",
                                     "traits": {"email": f"u{person}@acme.com"}}
        elif roll < 0.40:
            event = {"type": "patch", "anonymous_id": device, "operations": [
                {"op": "increment", "path": "visits"},
                {"op": "set", "path": "plan", "value": rng.choice(["free", "pro"])}]}
        elif roll < 0.95:
            event = {"type": "track", "anonymous_id": device, "event": "pageOpened",
                     "properties": {"url": f"https://shop/{rng.choice(['blog', 'docs'])}"
                                    f"/{rng.randrange(100)}", "title": "Page"}}
        else:
            event = {"type": "track", "anonymous_id": device, "event": "orderPlaced",
                     "properties": {"orderId": f"o{n}", "total": rng.randrange(10, 500)}}
        event["timestamp"] = at.isoformat()
        events.append(event)
    return events


def dict_fold(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same events folded by hand into plain dicts: the floor any store is measured against."""
    profiles: dict[str, dict[str, Any]] = {}
    for event in events:
        device = event["anonymous_id"]
        profile = profiles.get(device)
        if profile is None:
            profile = profiles[device] = {"custom": {}, "events": [], "pageviews": 0,
                                          "orders": 0, "user_id": None}
        kind = event["type"]
        if kind == "identify":
            profile["user_id"] = event["user_id"]
            profile.update(event["traits"])
        elif kind == "patch":
            custom = profile["custom"]
            for op in event["operations"]:
                if op["op"] == "increment":
                    custom[op["path"]] = custom.get(op["path"], 0) + 1
                else:
                    custom[op["path"]] = op["value"]
        else:
            name = event["event"]
            if name == "pageOpened":
                profile["pageviews"] += 1
            else:
                profile["orders"] += 1
            profile["events"].append({"type": name, "timestamp": event["timestamp"],
                                      "properties": dict(event["properties"])})
    return profiles


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def timed_both(run: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds of `run()` (a loaded machine inflates the
    first; the second excludes waiting, and for PostgreSQL the server's own work)."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


# --- part 1: throughput -------------------------------------------------------------------------


def throughput(count: int, users: int, with_postgres: bool) -> dict[str, float]:
    from segmentql.state import ProfileStore

    events = make_events(count, users)
    figures: dict[str, float] = {}
    folds = [timed_both(lambda: dict_fold(events)) for _ in range(3)]
    fold, fold_cpu = min(f[0] for f in folds), min(f[1] for f in folds)
    figures["dict fold"] = count / fold
    figures["dict fold cpu"] = count / fold_cpu
    print(f"\n{count:,} events over {users:,} users, batches of 500 ({load()})")
    print(f"  {'hand-written dict fold':<28} {count / fold:>10,.0f} events/s wall "
          f"{count / fold_cpu:>10,.0f} events/s CPU")

    def report(name: str, seconds: tuple[float, float]) -> None:
        wall, cpu = count / seconds[0], count / seconds[1]
        figures[name], figures[f"{name} cpu"] = wall, cpu
        target = TARGETS[name]
        verdict = "meets" if wall >= target else "BELOW"
        print(f"  {name:<28} {wall:>10,.0f} events/s wall {cpu:>10,.0f} events/s CPU  "
              f"({wall / figures['dict fold']:.3f} of the dict fold; target {target:,}: "
              f"{verdict})")

    memory = ProfileStore()
    report("memory", timed_both(lambda: [memory.apply(b) for b in chunks(events, 500)]))
    with tempfile.TemporaryDirectory() as tmp:
        store = ProfileStore.open(Path(tmp) / "bench.db")
        report("sqlite", timed_both(lambda: [store.apply(b) for b in chunks(events, 500)]))
        assert store.state == memory.state
        store.close()
    if with_postgres:
        sys.path.insert(0, str(REPO / "tests"))
        from pg_cluster import PostgresCluster, unavailable_reason

        reason = unavailable_reason()
        if reason is not None:
            print(f"  postgres: not measured ({reason})")
            return figures
        cluster = PostgresCluster.start()
        try:
            url = cluster.create_database()
            store = ProfileStore.open(url)
            report("postgres", timed_both(lambda: [store.apply(b) for b in chunks(events, 500)]))
            store.close()
        finally:
            cluster.stop()
    return figures


# --- part 2: a large store ------------------------------------------------------------------------


def bulk_sqlite_store(path: Path, users: int, events_per_user: int) -> None:
    """A SQLite store of `users` identified users with `events_per_user` page views each, built
    as `Profile` values and written with the backend's own row writer in large transactions
    (the bulk path: no per-event fold)."""
    from pyrsistent import pmap, pvector

    from segmentql.state.backend import Changes
    from segmentql.state.model import Profile, Session, TrackedEvent
    from segmentql.state.sqlite import SQLiteBackend, _write

    backend = SQLiteBackend(path)
    db = backend._db
    assert db is not None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    counter = 0
    batch = 5_000
    for first in range(0, users, batch):
        changes = Changes()
        for n in range(first, min(first + batch, users)):
            key = f"profile-{n}"
            at = start + timedelta(minutes=n % 10_000)
            counter += 1
            session = Session(f"session-{counter}", start=at, last_activity=at,
                              pageviews=events_per_user, landing_page="https://shop/")
            tracked = []
            for e in range(events_per_user):
                counter += 1
                properties = {"url": f"https://shop/page/{e}", "title": "Page"}
                tracked.append(TrackedEvent(counter, "pageOpened", at.isoformat(), session.id,
                                            properties, True))
            profile = Profile(
                key, user_id=f"user-{n}",
                attributes=pmap({"email": f"u{n}@example.com",
                                 "custom": pmap({"plan": "pro" if n % 3 else "free"})}),
                anonymous_ids=pvector([f"device-{n}"]),
                stats=pmap({"sessions": 1, "pageviews": events_per_user, "orders": 0}),
                events=pvector(tracked), session=session,
            )
            changes.profiles[key] = profile
            changes.before[key] = None
            changes.devices[f"device-{n}"] = key
            changes.users[f"user-{n}"] = key
        changes.counter = counter
        db.execute("BEGIN IMMEDIATE")
        _write(db, changes)
        db.execute("COMMIT")
    backend.close()


_PROBE = """
import json, random, resource, statistics, sys, time
start = time.perf_counter()
from segmentql.state import ProfileStore
imported = time.perf_counter()
store = ProfileStore.open(sys.argv[1])
opened = time.perf_counter()
ProfileStore.open(sys.argv[1]).close()
again = time.perf_counter() - opened
rng = random.Random(3)
users = int(sys.argv[2])
store.snapshot(user_id="user-0")["events"]
times = []
for _ in range(1000):
    who = f"user-{rng.randrange(users)}"
    t = time.perf_counter()
    snap = store.snapshot(user_id=who)
    snap["events"]
    times.append(time.perf_counter() - t)
    assert snap["user"]["id"] == who
rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
peak = int(status["VmHWM"].split()[0]) * 1024
print(json.dumps({"open_ms": (opened - imported) * 1e3, "reopen_ms": again * 1e3, "import_ms": (imported - start) * 1e3,
                  "snapshot_median_ms": statistics.median(times) * 1e3,
                  "snapshot_p99_ms": sorted(times)[989] * 1e3,
                  "rss_mb": rss / 2**20,
                  "max_rss_mb": peak / 2**20}))
"""


def large_store(users: int, events_per_user: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.db"
        generation = timed(lambda: bulk_sqlite_store(path, users, events_per_user))
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"\nA SQLite store of {users:,} users and {users * events_per_user:,} events "
              f"({size / 2**20:,.0f} MB; bulk generation took {generation:.1f} s; {load()})")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, "-c", _PROBE, str(path), str(users)],
                              capture_output=True, text=True, env=env, check=True)
        figures: dict[str, float] = json.loads(done.stdout)
    figures["generation_s"] = generation
    print(f"  open                        {figures['open_ms']:8.2f} ms   first in the process, "
          f"{figures['reopen_ms']:.2f} ms again   (target < 50 ms)")
    print(f"  snapshot of one user        {figures['snapshot_median_ms']:8.3f} ms median, "
          f"{figures['snapshot_p99_ms']:.3f} ms p99   (target < 1 ms median)")
    print(f"  RSS after 1,000 snapshots   {figures['rss_mb']:8.1f} MB   (peak "
          f"{figures['max_rss_mb']:.1f} MB; target < 200 MB)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--no-large", action="store_true", help="skip the large store")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-throughput", action="store_true", help="only the large store")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    count = 10_000 if args.quick else 50_000
    figures: dict[str, Any] = {}
    if not args.no_throughput:
        figures["throughput"] = throughput(count, 1_000, not args.no_postgres)
    if not args.no_large:
        users = 10_000 if args.quick else 100_000
        figures["large"] = large_store(users, 10)
    figures["load"] = load()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    print("\ndone")


if __name__ == "__main__":
    main()
