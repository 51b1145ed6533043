"""`segmentql demo`: the whole pipeline on the shipped example, in one command.

It loads the example schema, checks the example audiences, replays the example event stream
into an in-memory profile store, takes a request-time snapshot, evaluates every audience on it
and explains one. The files live in `segmentql/examples/` so the demo works from a wheel too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from importlib import resources
from typing import Any

import yaml

from segmentql.cli.common import EXIT_FINDINGS, EXIT_OK

#: The instant the demo evaluates at, so its output is the same every day.
DEMO_NOW = dt.datetime(2026, 11, 22, 18, 5, tzinfo=dt.UTC)
DEMO_USER = "u-42"
EXPLAINED = "engaged_readers"
MISSPELLED = "user's emial ends with \"@acme.com\""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the shipped example: check audiences, replay events, evaluate a snapshot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--show-files", action="store_true", help="print the example files before running"
    )
    parser.set_defaults(handler=run)


def example_text(name: str) -> str:
    """The text of one shipped example file."""
    return resources.files("segmentql.examples").joinpath(name).read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from segmentql.checker import check
    from segmentql.compiler import compile_audiences, compile_query
    from segmentql.diagnostics import render_all
    from segmentql.schema import Schema
    from segmentql.state import ProfileStore

    if args.show_files:
        for name in ("schema.yaml", "audiences.yaml", "events.jsonl", "request.json"):
            print(f"--- segmentql/examples/{name}\n{example_text(name).rstrip()}\n")

    schema = Schema.from_yaml(example_text("schema.yaml"), path="segmentql/examples/schema.yaml")
    audiences: dict[str, str] = yaml.safe_load(example_text("audiences.yaml"))

    print(f"1. Checking {len(audiences)} audiences against the example schema")
    problems = 0
    for name, query in audiences.items():
        diagnostics = check(query, schema, expect=bool)
        if diagnostics:
            problems += sum(1 for d in diagnostics if d.is_error)
            print(render_all(diagnostics, query, filename=name))
    print(f"   {'all clean' if not problems else f'{problems} error(s)'}\n")

    events = [json.loads(line) for line in example_text("events.jsonl").splitlines() if line]
    store = ProfileStore()
    result = store.apply(events)
    print(f"2. Replayed {len(events)} events into an in-memory profile store: {result}\n")

    request: dict[str, Any] = json.loads(example_text("request.json"))
    snapshot = store.snapshot(user_id=DEMO_USER, now=DEMO_NOW, **request)
    print(f"3. Snapshot of user {DEMO_USER!r} at {DEMO_NOW.isoformat()} (request: "
          f"{', '.join(sorted(request))})\n")

    audience_set = compile_audiences(audiences, schema)
    outcome = audience_set.evaluate(snapshot, now=DEMO_NOW)
    width = max(len(name) for name in audiences)
    print("4. Audiences")
    for name, query in audiences.items():
        mark = "match   " if outcome[name] else "no match"
        print(f"   {name:<{width}}  {mark}  {query}")
    print()

    explanation = compile_query(audiences[EXPLAINED], schema).explain(snapshot, now=DEMO_NOW)
    print(f"5. Why {EXPLAINED!r} {'matches' if outcome[EXPLAINED] else 'does not match'}:")
    print(_indent(str(explanation)))
    print()

    print("6. What the checker says about a misspelled attribute:")
    print(_indent(render_all(check(MISSPELLED, schema), MISSPELLED)))
    return EXIT_OK if not problems else EXIT_FINDINGS


def _indent(text: str) -> str:
    return "\n".join(f"   {line}" if line else line for line in text.splitlines())
