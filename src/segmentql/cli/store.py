"""`segmentql store migrate FILE` and `segmentql store stats STORE`: maintain profile stores."""

from __future__ import annotations

import argparse
from typing import Any

from segmentql.cli.common import EXIT_OK, CommandError, print_json


def register(subparsers: Any) -> None:
    store = subparsers.add_parser(
        "store",
        help="maintain a profile store (migrate an older SQLite layout, show row counts)",
        description="Maintain a profile store: a SQLite file or a postgresql:// URL.",
    )
    jobs = store.add_subparsers(dest="store_command", metavar="JOB", required=True)
    migrate = jobs.add_parser(
        "migrate",
        help="upgrade a SQLite store file to the current layout, in place",
        description="Upgrade a SQLite profile store written by an older segmentql to the "
        "current layout, in one transaction (an interrupted migration leaves the old layout). "
        "A store already current is left as it is.",
    )
    migrate.add_argument("file", help="the SQLite store file")
    migrate.set_defaults(handler=run_migrate)
    stats = jobs.add_parser(
        "stats",
        help="print the row counts of a store as JSON",
        description="Print the number of profiles, kept events, devices, users and groups.",
    )
    stats.add_argument("store", help="a SQLite store file or a postgresql:// URL")
    stats.set_defaults(handler=run_stats)


def run_migrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from segmentql.state import StateError
    from segmentql.state.sqlite import migrate

    try:
        print(migrate(Path(args.file)))
    except StateError as exc:
        raise CommandError(str(exc)) from None
    return EXIT_OK


def run_stats(args: argparse.Namespace) -> int:
    from segmentql.state import ProfileStore, StateError

    try:
        with ProfileStore.open(args.store) as store:
            print_json({"store": store.where, **store.stats()})
    except StateError as exc:
        raise CommandError(str(exc)) from None
    return EXIT_OK
