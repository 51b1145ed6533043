"""State-model benchmark: events applied per second (memory, SQLite) and the per-request cost
of a snapshot plus audience evaluation.

    python bench/bench_state.py            # about 20 s
    python bench/bench_state.py --quick    # a few seconds, smaller counts

Times are CPU time of this process (`time.process_time`), so a busy machine inflates them less
than wall-clock time would; SQLite figures exclude time spent waiting for the disk.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from segmentql.state import ProfileStore, parse_event

AUDIENCES = {
    "pro_on_pricing": 'user\'s plan is "pro" and page\'s url matches "pricing"',
    "returning_reader": 'user is returning and user has viewed a page with url like "blog" '
    "at least 2 times",
    "new_visitor": "session is starting and user is not identified",
    "big_spender": "user's stats' orders >= 2 or user's visits > 10",
    "acme": 'user\'s email ends with "@acme.com" and location\'s city is "Berlin"',
}


def make_events(count: int, devices: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for n in range(count):
        at += timedelta(seconds=rng.randrange(1, 120))
        device = f"device-{rng.randrange(devices)}"
        roll = rng.random()
        if roll < 0.55:
            event: dict[str, Any] = {
                "type": "track", "anonymous_id": device, "event": "pageOpened",
                "properties": {"url": f"https://shop/{rng.choice(['blog', 'pricing', 'docs'])}"
                               f"/{rng.randrange(100)}", "title": "Page"},
            }
        elif roll < 0.85:
            event = {"type": "patch", "anonymous_id": device, "operations": [
                {"op": "increment", "path": "visits"},
                {"op": "set", "path": "plan", "value": rng.choice(["free", "pro"])},
                {"op": "combine", "path": "interests", "value": rng.choice(["a", "b", "c"])}]}
        elif roll < 0.95:
            event = {"type": "identify", "anonymous_id": device,
                     "user_id": f"user-{rng.randrange(devices // 2 or 1)}",
                     "traits": {"email": f"u{n}@acme.com"}}
        else:
            event = {"type": "track", "anonymous_id": device, "event": "orderPlaced",
                     "properties": {"orderId": f"o{n}", "total": rng.randrange(10, 500)}}
        event["timestamp"] = at.isoformat()
        events.append(event)
    return events


def rate(label: str, count: int, run: Callable[[], None]) -> float:
    start = time.process_time()
    run()
    elapsed = time.process_time() - start
    per_second = count / elapsed
    print(f"  {label:<44} {per_second:>10,.0f} events/s  ({elapsed:.2f} s for {count:,})")
    return per_second


def per_call(label: str, repeat: int, run: Callable[[], object]) -> float:
    run()
    start = time.process_time()
    for _ in range(repeat):
        run()
    micros = (time.process_time() - start) / repeat * 1e6
    print(f"  {label:<44} {micros:>10,.1f} µs")
    return micros


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 4_000 if args.quick else 20_000
    raw = make_events(count, devices=count // 20)
    events = [parse_event(e) for e in raw]

    print(f"Applying {count:,} events ({count // 20:,} devices; parsed models)")
    rate("memory, batches of 100", count,
         lambda: [ProfileStore().apply(b) for b in chunks(events, 100)] and None)
    memory = ProfileStore()
    rate("memory, one event per apply", count, lambda: [memory.apply(e) for e in events] and None)
    rate("memory, JSON dicts (validation included)", count,
         lambda: [ProfileStore().apply(b) for b in chunks(raw, 100)] and None)
    with tempfile.TemporaryDirectory() as tmp:
        store = ProfileStore.open(Path(tmp) / "bench.db")
        rate("SQLite, batches of 100 (one transaction each)", count,
             lambda: [store.apply(b) for b in chunks(events, 100)] and None)
        store.close()
        few = events[: count // 5]
        store = ProfileStore.open(Path(tmp) / "single.db")
        rate("SQLite, one transaction per event", len(few),
             lambda: [store.apply(e) for e in few] and None)
        store.close()
        start = time.process_time()
        ProfileStore.open(Path(tmp) / "bench.db").close()
        print(f"  {'reopen (load the whole state)':<44} {time.process_time() - start:>10.3f} s")

    # A typical profile: the busiest device's.
    busiest = max(memory.state.devices, key=lambda d: len(
        memory.state.profiles[memory.state.devices[d]].events))
    profile = memory.state.profiles[memory.state.devices[busiest]]
    request = {"page": {"url": "https://shop/pricing"}, "location": {"city": "Berlin"}}
    print(f"\nPer request (profile with {len(profile.events)} events)")
    repeat = 2_000 if args.quick else 10_000
    per_call("snapshot", repeat, lambda: memory.snapshot(anonymous_id=busiest, **request))
    try:
        from segmentql.compiler import compile_audiences
    except ImportError:
        print("  (segmentql.compiler not importable: audience evaluation skipped)")
        return
    try:
        audiences = compile_audiences(AUDIENCES)
    except Exception as exc:  # the compiler is another module; report, don't crash the bench
        print(f"  (audiences did not compile: {type(exc).__name__}: {exc})")
        return
    snapshot = memory.snapshot(anonymous_id=busiest, **request)
    per_call(f"evaluate {len(AUDIENCES)} audiences on a snapshot", repeat,
             lambda: audiences.evaluate(snapshot))
    per_call("snapshot + evaluate", repeat,
             lambda: audiences.evaluate(memory.snapshot(anonymous_id=busiest, **request)))


if __name__ == "__main__":
    main()
