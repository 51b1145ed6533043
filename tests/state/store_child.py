"""Child processes of the store tests: `crash TARGET SEED`, `writer TARGET NAME COUNT`,
`reader TARGET STOPFILE`. TARGET is a SQLite path or a postgresql:// URL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from state_helpers import crash_batches, pageview, patch

from segmentql.state import ProfileStore


def crash(target: str, seed: int) -> None:
    store = ProfileStore.open(target)
    batches = crash_batches(seed)
    print("ready", flush=True)
    for number, batch in enumerate(batches, start=1):
        store.apply(batch)
        print(f"applied {number}", flush=True)  # the parent kills after a chosen batch
    print("done", flush=True)


def writer(target: str, name: str, count: int) -> None:
    with ProfileStore.open(target) as store:
        for n in range(count):
            # One batch: a page view and two counters of the shared user, all or nothing.
            store.apply([
                pageview(f"/{name}/{n}", user="shared"),
                patch(("increment", "n"), ("increment", f"by_{name}"), user="shared"),
                patch(("increment", "mine"), anon=f"device-{name}"),
            ])
    print("done", flush=True)


def reader(target: str, stop: str) -> None:
    reads = 0
    seen = 0
    with ProfileStore.open(target) as store:
        while True:
            finished = Path(stop).exists()
            snap = store.snapshot(user_id="shared")
            custom = snap["user"]["custom"]
            n = custom.get("n", 0)
            # Whole batches only: every counter of one batch moved together.
            if n != snap["user"]["stats"]["pageviews"] or n != sum(
                v for k, v in custom.items() if k.startswith("by_")
            ):
                print(json.dumps({"torn": snap.to_json()["user"]}), flush=True)
                sys.exit(1)
            if n < seen:
                print(json.dumps({"went-back": [seen, n]}), flush=True)
                sys.exit(1)
            seen = n
            reads += 1
            if finished:
                break
    print(json.dumps({"reads": reads, "last": seen}), flush=True)


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    if command == "crash":
        crash(target, int(sys.argv[3]))
    elif command == "writer":
        writer(target, sys.argv[3], int(sys.argv[4]))
    else:
        reader(target, sys.argv[3])
