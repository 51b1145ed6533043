"""`segmentql eval` and `segmentql explain`: run a query on a variables file.

    segmentql eval 'user''s plan is "pro"' --variables profile.json [--now ISO]
        [--time-zone TZ] [--schema FILE] [--format text|json]
    segmentql explain QUERY --variables FILE ...     # the clause-by-clause trace

`eval` exit status: 0 when the query matched or its value is not a boolean, 1 when it did not
match (false), 2 on errors (bad query, run-time error value, unreadable files).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
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
    print_json,
    read_json_file,
    read_query,
    require_regular_file,
)

if TYPE_CHECKING:
    from segmentql.compiler import Query


def register(subparsers: Any) -> None:
    for name, handler, summary in (
        ("eval", run_eval, "evaluate a query on a variables file and print its value"),
        ("explain", run_explain, "evaluate a query and print every clause's value and reads"),
    ):
        parser = subparsers.add_parser(name, help=summary, description=summary + ".")
        add_query_argument(parser)
        parser.add_argument(
            "--variables", metavar="FILE", default=None,
            help="JSON file with the variables (user, session, events, ...); '-' reads stdin",
        )
        parser.add_argument("--now", metavar="ISO", type=iso_instant,
                            help="the evaluation instant (ISO 8601)")
        parser.add_argument(
            "--time-zone", metavar="TZ", default="UTC", type=zone_name,
            help="IANA time zone (default UTC)",
        )
        parser.add_argument("--schema", metavar="FILE", help="schema file (YAML or JSON)")
        add_budget_arguments(parser)
        add_format_argument(parser)
        parser.set_defaults(handler=handler)


def _prepare(args: argparse.Namespace) -> tuple[Query | None, dict[str, Any], int]:
    from segmentql.compiler import compile_query
    from segmentql.errors import QueryError

    if args.query in (None, "-") and args.variables == "-":
        raise CommandError("the query and the variables cannot both come from standard input")
    text = read_query(args.query)
    variables: Any = {} if args.variables is None else read_json_file(args.variables, "variables")
    if not isinstance(variables, dict):
        raise CommandError("the variables file must hold a JSON object")
    schema = _load_schema(args.schema)
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
    from segmentql.diagnostics import Diagnostic, Severity, render_all

    explanation = query.explain(variables, now=args.now, time_zone=args.time_zone)
    failure = explanation.error_diagnostic() or Diagnostic(
        exc.code, Severity.ERROR, exc.message, exc.span)
    return render_all([failure], query.text)


def _load_schema(path: str | None) -> Any:
    if path is None:
        return None
    from segmentql.errors import SchemaError
    from segmentql.schema import Schema

    require_regular_file(path, "schema")
    try:
        return Schema.load(path)
    except SchemaError as exc:
        raise CommandError(f"invalid schema: {exc}") from None


def run_eval(args: argparse.Namespace) -> int:
    from segmentql.compiler.explain import show
    from segmentql.compiler.query import json_value
    from segmentql.errors import EvaluationError

    query, variables, status = _prepare(args)
    if query is None:
        return status
    try:
        value = query.evaluate(variables, now=args.now, time_zone=args.time_zone)
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
    from segmentql.errors import EvaluationError

    query, variables, status = _prepare(args)
    if query is None:
        return status
    try:
        explanation = query.explain(variables, now=args.now, time_zone=args.time_zone)
    except EvaluationError as exc:  # a bad --now or --time-zone
        raise CommandError(exc.message) from None
    if args.format == "json":
        print_json(explanation.to_json())
    else:
        print(explanation.render())
        failure = explanation.error_diagnostic()
        if failure is not None:
            from segmentql.diagnostics import render_all

            print(render_all([failure], query.text), file=sys.stderr)
    if explanation.error is not None:
        return EXIT_USAGE
    return EXIT_FINDINGS if explanation.value is False else EXIT_OK
