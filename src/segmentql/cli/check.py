"""`segmentql check`: every diagnostic of one query, or of a file of queries.

    segmentql check 'user''s plan is "pro"' [--schema FILE] [--format text|json] [--audience]
    segmentql check --file audiences.yaml      # {name: query}; a .txt file: one query a line

Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage (bad flag, unreadable or
broken file, broken schema).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentql.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    add_budget_arguments,
    add_format_argument,
    budget_from,
    print_json,
    read_query,
    read_text_file,
    require_regular_file,
)

if TYPE_CHECKING:
    from segmentql.diagnostics import Diagnostic
    from segmentql.schema import Schema


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check queries against a schema: names, types, and every diagnostic",
        description="Report every syntax, name and type problem of a query (or of each query "
        "in a file). Exit 0 when there is no error, 1 when there is one, 2 on usage errors.",
    )
    parser.add_argument(
        "query", nargs="?", default=None,
        help="the query; '-' or nothing reads it from standard input (unless --file is given)",
    )
    parser.add_argument(
        "--file", metavar="FILE",
        help="check every query in FILE: a YAML/JSON mapping of audience names to queries, or "
        "a text file with one query per line (blank lines and lines starting with # skipped)",
    )
    parser.add_argument("--schema", metavar="FILE", help="schema file (YAML or JSON)")
    parser.add_argument(
        "--audience", action="store_true",
        help="require a boolean result (always on for YAML/JSON audience files)",
    )
    add_budget_arguments(parser)
    add_format_argument(parser)
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Entry:
    """One query of a file: where it is, so diagnostics point into the file."""

    name: str
    query: str
    line: int = 1  # 1-based line of the query's first character in the file
    column: int = 1
    offset: int = 0  # code-point offset of the query's first character in the file
    in_file: bool = True  # False when the file position of later characters is unknown


def run(args: argparse.Namespace) -> int:
    from segmentql.checker import check
    from segmentql.diagnostics import diagnostics_to_json, render_all

    schema = _load_schema(args.schema)
    if args.file is not None:
        if args.query is not None:
            raise CommandError("give either a query or --file, not both")
        return _run_file(args, schema)
    text = read_query(args.query)
    expect = bool if args.audience else None
    diagnostics = check(text, schema, expect=expect, budget=budget_from(args))
    if args.format == "json":
        print_json(diagnostics_to_json(diagnostics))
    else:
        print(render_all(diagnostics, text))
    return EXIT_FINDINGS if any(d.is_error for d in diagnostics) else EXIT_OK


def _load_schema(path: str | None) -> Schema:
    from segmentql.errors import SchemaError
    from segmentql.schema import Schema

    if path is None:
        return Schema.default()
    require_regular_file(path, "schema")
    try:
        return Schema.load(path)
    except SchemaError as exc:
        raise CommandError(f"invalid schema: {exc}") from None


def _run_file(args: argparse.Namespace, schema: Schema) -> int:
    from segmentql.checker import check
    from segmentql.diagnostics import render_text, summary_line

    path = args.file
    text = read_text_file(path, "query")
    structured = Path(path).suffix.lower() in (".yaml", ".yml", ".json")
    entries = _audience_entries(text, path) if structured else _line_entries(text)
    expect = bool if (structured or args.audience) else None
    budget = budget_from(args)
    results = [(entry, check(entry.query, schema, expect=expect, budget=budget))
               for entry in entries]
    errors = sum(1 for _, ds in results for d in ds if d.is_error)
    warnings = sum(1 for _, ds in results for d in ds if d.severity.value == "warning")
    failing = sum(1 for _, ds in results if any(d.is_error for d in ds))
    if args.format == "json":
        print_json({
            "version": 1,
            "file": path,
            "queries": [
                {
                    "name": entry.name, "query": entry.query, "line": entry.line,
                    "column": entry.column,
                    "diagnostics": [d.to_json() for d in diagnostics],
                }
                for entry, diagnostics in results
            ],
            "summary": {"queries": len(results), "failing": failing, "errors": errors,
                        "warnings": warnings},
        })
    else:
        out: list[str] = []
        for entry, diagnostics in results:
            for d in diagnostics:
                if entry.in_file:
                    out.append(render_text(_shift(d, entry), text, filename=path))
                else:
                    out.append(render_text(d, entry.query, filename=f"{path} ({entry.name})"))
        noun = "query" if len(results) == 1 else "queries"
        out.append(
            f"Checked {len(results)} {noun}: {failing} with errors. "
            + summary_line(errors, warnings)
        )
        sys.stdout.write("\n\n".join(out) + "\n")
    return EXIT_FINDINGS if errors else EXIT_OK


def _shift(d: Diagnostic, entry: Entry) -> Diagnostic:
    """A diagnostic on a query moved to the query's place in its file."""
    def move(span: Any) -> Any:
        column = span.column + (entry.column - 1 if span.line == 1 else 0)
        end_column = span.end_column + (entry.column - 1 if span.end_line == 1 else 0)
        return replace(
            span, start=span.start + entry.offset, end=span.end + entry.offset,
            line=span.line + entry.line - 1, end_line=span.end_line + entry.line - 1,
            column=column, end_column=end_column,
        )

    return replace(d, span=move(d.span),
                   labels=tuple(replace(lb, span=move(lb.span)) for lb in d.labels))


def _line_entries(text: str) -> list[Entry]:
    entries: list[Entry] = []
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            indent = len(line) - len(line.lstrip())
            entries.append(Entry(f"line {number}", line.rstrip().lstrip(), number, indent + 1,
                                 offset + indent))
        offset += len(line) + 1
    return entries


def _audience_entries(text: str, path: str) -> list[Entry]:
    """`{name: query}` from YAML or JSON, with the position of each query in the file."""
    import yaml

    if path.lower().endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}:{exc.lineno}:{exc.colno}: not a valid YAML/JSON file: "
                               f"{exc.msg}") from None
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise CommandError(f"{path}{where}: not a valid YAML/JSON file: "
                           f"{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CommandError(f"{path}: not a valid YAML/JSON file: {exc}") from None
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        raise CommandError(f"{path}: expected a mapping of audience names to queries")
    line_starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            line_starts.append(i + 1)
    entries: list[Entry] = []
    for key_node, value_node in node.value:
        name = str(key_node.value)
        if not isinstance(value_node, yaml.ScalarNode) or value_node.tag.endswith(":null"):
            line = key_node.start_mark.line + 1
            raise CommandError(f"{path}:{line}: audience {name!r} must be a query string")
        query = str(value_node.value)
        mark = value_node.start_mark
        style = value_node.style
        single_line = mark.line == value_node.end_mark.line and "\n" not in query
        quoted = style in ('"', "'")
        column = mark.column + (1 if quoted else 0)
        offset = line_starts[mark.line] + column
        exact = single_line and (
            style is None or text[offset:offset + len(query)] == query
        )
        entries.append(Entry(name, query, mark.line + 1, column + 1, offset, in_file=exact))
    return entries
