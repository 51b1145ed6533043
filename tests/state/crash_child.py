"""Child process of the crash test: applies the crash batches to a SQLite store until killed."""

from __future__ import annotations

import sys

from state_helpers import crash_batches

from segmentql.state import ProfileStore


def main() -> None:
    path, seed = sys.argv[1], int(sys.argv[2])
    store = ProfileStore.open(path)
    batches = crash_batches(seed)
    print("ready", flush=True)
    for batch in batches:
        store.apply(batch)
    print("done", flush=True)


if __name__ == "__main__":
    main()
