"""`segmentql eval` and `segmentql explain`: run a query, or every audience, on one profile.

    segmentql eval 'user'"'"'s plan is "pro"' --variables profile.json [--now ISO]
        [--time-zone TZ] [--schema FILE] [--format text|json]
    segmentql eval --audiences audiences.yaml --user-id u1 [--store FILE] [--explain]
    segmentql explain QUERY --variables FILE ...     # the clause-by-clause trace

The profile is `--variables FILE` (JSON), or the snapshot of `--user-id` / `--anonymous-id`
in `--store` (default: the configuration's `store`). The schema and time zone default to the
configuration's.

`eval` exit status: 0 when the query (or at least one audience) matched, or a query's value is
not a boolean; 1 when nothing matched; 2 on errors (bad query, run-time error value,
unreadable files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentql.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_budget_arguments,
    add_format_argument,
    add_query_argument,
    budget_from,
    load_schema,
    print_json,
    project_config,
    read_json_file,
    read_query,
    time_zone,
)

if TYPE_CHECKING:
    from segmentql.compiler import Query
    from segmentql.schema import Schema


def register(subparsers: Any) -> None:
    for name, handler, summary in (
        ("eval", run_eval, "evaluate a query, or every audience, on one profile"),
        ("explain", run_explain, "evaluate a query and print every clause's value and reads"),
    ):
        parser = subparsers.add_parser(name, help=summary, description=summary + ".")
        add_query_argument(parser)
        if name == "eval":
            parser.add_argument(
                "--audiences", metavar="FILE", action="append", default=[],
                help="evaluate every audience in FILE (YAML/JSON; repeatable) instead of a query",
            )
            parser.add_argument("--explain", action="store_true",
                                help="print the clause-by-clause trace of each result")
        profile = parser.add_argument_group("the profile (one of)")
        profile.add_argument(
            "--variables", metavar="FILE", default=None,
            help="JSON file with the variables (user, session, events, ...); '-' reads stdin",
        )
        profile.add_argument("--user-id", metavar="ID",
                             help="the snapshot of this user in the store")
        profile.add_argument("--anonymous-id", metavar="ID",
                             help="the snapshot of this device in the store")
        parser.add_argument(
            "--store", metavar="STORE",
            help="the profile store for --user-id/--anonymous-id (default: the configuration's)",
        )
        parser.add_argument("--now", metavar="ISO", type=iso_instant,
                            help="the evaluation instant (ISO 8601)")
        parser.add_argument(
            "--time-zone", metavar="TZ", default=None, type=zone_name,
            help="IANA time zone (default: the configuration's, else UTC)",
        )
        parser.add_argument("--schema", metavar="FILE", help="schema file (YAML or JSON)")
        add_budget_arguments(parser)
        add_format_argument(parser)
        parser.set_defaults(handler=handler)


def _variables(args: argparse.Namespace, schema: Schema) -> Any:
    """The profile: the variables file, a store snapshot, or nothing (`{}`)."""
    who = [flag for flag, value in (("--variables", args.variables), ("--user-id", args.user_id),
                                    ("--anonymous-id", args.anonymous_id)) if value is not None]
    if len(who) > 1:
        raise CommandError(f"give one profile: {' or '.join(who)}, not both")
    if args.variables is not None:
        variables = read_json_file(args.variables, "variables")
        if not isinstance(variables, dict):
            raise CommandError("the variables file must hold a JSON object")
        return variables
    if args.user_id is None and args.anonymous_id is None:
        if args.store is not None:
            raise CommandError("--store needs --user-id or --anonymous-id")
        return {}
    from segmentql.state import ProfileStore, StateError

    config = project_config(args)
    store = args.store or (config.store if config is not None else None)
    if store is None:
        raise CommandError("no store: pass --store, or set `store` in the configuration")
    if "://" not in store and not Path(store).exists():
        raise CommandError(f"no store at {store}")
    try:
        with ProfileStore.open(store, schema=schema) as opened:
            return opened.snapshot(user_id=args.user_id, anonymous_id=args.anonymous_id,
                                   now=_now(args.now))
    except StateError as exc:
        raise CommandError(str(exc)) from None


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        now = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--now is not an ISO-8601 instant: {value!r}") from None
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _prepare(args: argparse.Namespace) -> tuple[Query | None, Any, int]:
    from segmentql.compiler import compile_query
    from segmentql.errors import QueryError

    if args.query in (None, "-") and args.variables == "-":
        raise CommandError("the query and the variables cannot both come from standard input")
    text = read_query(args.query)
    schema = load_schema(args)
    variables = _variables(args, schema)
    try:
        return compile_query(text, schema, budget=budget_from(args)), variables, EXIT_OK
    except QueryError as exc:
        if args.format == "json":
            print_json({"error": {"diagnostics": [d.to_json() for d in exc.diagnostics]}})
        else:
            print(exc.render(), file=sys.stderr)
        return None, variables, EXIT_USAGE


def iso_instant(text: str) -> str:
    """`--now`: an ISO-8601 instant, else a usage error (argparse says which option)."""
    from segmentql.runtime.temporal import parse_datetime

    if parse_datetime(text, dt.UTC) is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date-time (e.g. 2024-05-01T12:00:00Z)"
        )
    return text


def zone_name(text: str) -> str:
    """`--time-zone`: an IANA zone name, else a usage error."""
    from segmentql.runtime.temporal import zone

    try:
        zone(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _runtime_error(query: Query, variables: Any, args: argparse.Namespace, exc: Any) -> str:
    """A run-time error as a diagnostic: the source line, carets, and the values read."""
    from segmentql.diagnostics import Diagnostic, Severity, render_text

    explanation = query.explain(variables, now=args.now, time_zone=time_zone(args))
    failure = explanation.error_diagnostic() or Diagnostic(
        exc.code, Severity.ERROR, exc.message, exc.span)
    return render_text(failure, query.text)


def run_eval(args: argparse.Namespace) -> int:
    from segmentql.compiler.explain import show
    from segmentql.compiler.query import json_value
    from segmentql.errors import EvaluationError

    if args.audiences:
        if args.query not in (None, "-"):
            raise CommandError("give either a query or --audiences, not both")
        return _run_audiences(args)
    query, variables, status = _prepare(args)
    if query is None:
        return status
    if args.explain:
        return _explain(args, query, variables)
    try:
        value = query.evaluate(variables, now=args.now, time_zone=time_zone(args))
    except EvaluationError as exc:
        if args.format == "json":
            print_json({"error": {"code": exc.code, "message": exc.message,
                                  "span": exc.span.to_json()}, "matched": False})
        else:
            print(_runtime_error(query, variables, args, exc), file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print_json({"value": json_value(value), "matched": value is True})
    else:
        print(show(value))
    return EXIT_FINDINGS if value is False else EXIT_OK


def run_explain(args: argparse.Namespace) -> int:
    query, variables, status = _prepare(args)
    if query is None:
        return status
    return _explain(args, query, variables)


def _explain(args: argparse.Namespace, query: Query, variables: Any) -> int:
    from segmentql.errors import EvaluationError

    try:
        explanation = query.explain(variables, now=args.now, time_zone=time_zone(args))
    except EvaluationError as exc:  # a bad --now or --time-zone
        raise CommandError(exc.message) from None
    if args.format == "json":
        print_json(explanation.to_json())
    else:
        print(explanation.render())
        failure = explanation.error_diagnostic()
        if failure is not None:
            from segmentql.diagnostics import render_text

            print(render_text(failure, query.text), file=sys.stderr)
    if explanation.error is not None:
        return EXIT_USAGE
    return EXIT_FINDINGS if explanation.value is False else EXIT_OK


def _run_audiences(args: argparse.Namespace) -> int:
    """Every audience of the files against one profile: a table, or JSON."""
    from segmentql.cli.sources import AUDIENCE_FILE_SUFFIXES, read_query_file
    from segmentql.compiler import compile_query
    from segmentql.compiler.explain import show
    from segmentql.compiler.query import json_value
    from segmentql.diagnostics import render_text
    from segmentql.errors import QueryError

    schema = load_schema(args)
    zone = time_zone(args)
    compiled: list[tuple[str, str, str, Query]] = []
    broken = 0
    for path in args.audiences:
        if Path(path).suffix.lower() not in AUDIENCE_FILE_SUFFIXES:
            raise CommandError(f"--audiences takes a YAML or JSON audience file, not {path}")
        source = read_query_file(path)
        for entry in source.queries:
            try:
                compiled.append((path, entry.name, entry.text, compile_query(
                    entry.text, schema, expect=bool, budget=budget_from(args))))
            except QueryError as exc:
                broken += 1
                for d in exc.diagnostics:
                    if d.is_error:
                        print(render_text(source.place(entry, d), source.text, filename=path),
                              file=sys.stderr)
    if broken:
        print(f"{broken} audience(s) do not compile; nothing evaluated", file=sys.stderr)
        return EXIT_USAGE
    variables = _variables(args, schema)
    rows: list[dict[str, Any]] = []
    explanations: list[Any] = []
    for path, name, text, query in compiled:
        explanation = query.explain(variables, now=args.now, time_zone=zone)
        explanations.append(explanation)
        row: dict[str, Any] = {"file": path, "name": name, "query": text,
                               "value": json_value(explanation.value),
                               "matched": explanation.matched}
        if explanation.error is not None:
            row["error"] = {"code": explanation.error.code, "message": explanation.error.message}
        if args.explain:
            row["explanation"] = explanation.to_json()
        rows.append(row)
    matching = [row["name"] for row in rows if row["matched"]]
    if args.format == "json":
        print_json({"audiences": rows, "matching": matching})
    else:
        _table(rows, show_values=[show(e.value) for e in explanations])
        if args.explain:
            for row, explanation in zip(rows, explanations, strict=True):
                print(f"\n--- {row['name']} ({row['file']})")
                print(explanation.render())
    if any("error" in row for row in rows):
        return EXIT_USAGE
    return EXIT_OK if matching else EXIT_FINDINGS


def _table(rows: list[dict[str, Any]], show_values: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("audience", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("query", overflow="fold")
    for row, value in zip(rows, show_values, strict=True):
        if "error" in row:
            result = f"[red]error {row['error']['code']}[/red]"
        elif row["matched"]:
            result = "[green]match[/green]"
        else:
            result = "no match" if row["value"] is False else f"no match ({value})"
        table.add_row(row["name"], result, row["query"], style=None)
    console = Console(highlight=False, soft_wrap=False)
    console.print(table)
    console.print(f"{sum(1 for r in rows if r['matched'])} of {len(rows)} audiences match")
