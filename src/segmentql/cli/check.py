"""`segmentql check`: every diagnostic of one query, or of files of queries.

    segmentql check 'user'"'"'s plan is "pro"' [--schema FILE] [--audience]
    segmentql check audiences.yaml query.segmentql ...   # files (also --file FILE)
    segmentql check                   # the configuration's audience files (else stdin)
    ... [--select CODES] [--ignore CODES] [--strict] [--output-format text|json|github|sarif]

Exit status: 0 no errors (warnings allowed unless --strict), 1 errors found, 2 usage (bad
flag, unreadable or broken file, broken schema or configuration).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentql.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    add_budget_arguments,
    budget_from,
    load_schema,
    print_json,
    project_config,
    read_query,
)
from segmentql.cli.output import OUTPUT_FORMATS

if TYPE_CHECKING:
    from segmentql.cli.sources import QueryFile
    from segmentql.config import LintConfig, ProjectConfig
    from segmentql.lint import Finding
    from segmentql.schema import Schema


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check queries against a schema: names, types, and every diagnostic",
        description="Report every syntax, name and type problem of a query, or of each query "
        "in files. Exit 0 when there is no error, 1 when there is one, 2 on usage errors.",
    )
    parser.add_argument(
        "targets", nargs="*", metavar="QUERY | FILE",
        help="a query ('-' reads it from standard input), or files of queries: .segmentql "
        "(one query), .yaml/.yml/.json (audience files), .txt (one query per line). With "
        "neither, the configuration's audience files, else standard input",
    )
    parser.add_argument(
        "--file", metavar="FILE", action="append", default=[],
        help="check every query in FILE (repeatable); the same as naming the file",
    )
    parser.add_argument("--schema", metavar="FILE", help="schema file (YAML or JSON); "
                        "default: the configuration's, else the standard catalog")
    parser.add_argument(
        "--audience", action="store_true",
        help="require a boolean result (always on for YAML/JSON audience files)",
    )
    add_budget_arguments(parser)
    add_lint_arguments(parser)
    parser.set_defaults(handler=run)


def add_lint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-format", "--format", dest="format", choices=OUTPUT_FORMATS, default="text",
        help="text (default; colour on a terminal unless NO_COLOR is set), json, github "
        "(workflow annotations) or sarif",
    )
    parser.add_argument(
        "--select", metavar="CODES", type=_codes,
        help="report only these codes or prefixes, comma-separated (Q2,Q105); replaces the "
        "configuration's select",
    )
    parser.add_argument(
        "--ignore", metavar="CODES", type=_codes,
        help="never report these codes or prefixes (added to the configuration's ignore)",
    )
    parser.add_argument("--strict", action="store_true", default=None,
                        help="warnings count as errors for the exit status")


def _codes(value: str) -> tuple[str, ...]:
    from segmentql.config import check_code_list

    try:
        return check_code_list([v for v in value.split(",") if v.strip()], "code")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def lint_settings(args: argparse.Namespace, config: ProjectConfig | None) -> LintConfig:
    from segmentql.config import LintConfig

    base = config.lint if config is not None else LintConfig()
    return base.merged(select=args.select, ignore=args.ignore, strict=args.strict)


def run(args: argparse.Namespace) -> int:
    from segmentql.cli.sources import is_query_file

    config = project_config(args)
    files = list(args.file)
    query: str | None = None
    if args.targets:
        if len(args.targets) == 1 and not is_query_file(args.targets[0]) and not files:
            query = args.targets[0]
        else:
            for target in args.targets:
                if not is_query_file(target):
                    if not Path(target).exists() and len(args.targets) == 1:
                        raise CommandError("give either a query or --file, not both")
                    raise CommandError(f"not a file of queries: {target} (files end in "
                                       ".segmentql, .yaml, .yml, .json or .txt)")
                files.append(target)
    elif not files and config is not None and config.audience_paths:
        files = [_shown(path) for path in config.audience_paths]
    lint = lint_settings(args, config)
    schema = load_schema(args)
    if files:
        return _run_files(args, files, schema, lint, config)
    return _run_query(args, read_query(query), schema, lint, config)


def _limits(args: argparse.Namespace, config: ProjectConfig | None) -> dict[str, Any]:
    """The checker's limits: the configuration's length and depth, the `--budget-*` budget."""
    limits: dict[str, Any] = {"budget": budget_from(args)}
    if config is not None:
        limits.update(max_length=config.max_length, max_depth=config.max_depth)
    return limits


def _run_query(args: argparse.Namespace, text: str, schema: Schema, lint: LintConfig,
               config: ProjectConfig | None) -> int:
    from segmentql.checker import check
    from segmentql.diagnostics import diagnostics_to_json, render_all
    from segmentql.lint import Finding, fails, keep, suppressions

    expect = bool if args.audience else None
    diagnostics = check(text, schema, expect=expect, **_limits(args, config))
    findings = keep([Finding(d, "<query>") for d in diagnostics], lint,
                    {"<query>": suppressions(text)})
    kept = [f.diagnostic for f in findings]
    if args.format == "json":
        print_json(diagnostics_to_json(kept))
    elif args.format == "text":
        from segmentql.cli.output import write_text

        write_text(render_all(kept, text))
    else:
        _machine_output(args.format, findings)
    return EXIT_FINDINGS if fails(findings, lint) else EXIT_OK


def _run_files(args: argparse.Namespace, paths: list[str], schema: Schema, lint: LintConfig,
               config: ProjectConfig | None) -> int:
    from segmentql.checker import check
    from segmentql.cli.sources import read_query_file
    from segmentql.diagnostics import Severity, render_text, summary_line
    from segmentql.lint import Finding, fails, keep, suppressions

    sources = [read_query_file(path) for path in paths]
    directives = {source.path: suppressions(source.text) for source in sources}
    results: list[tuple[QueryFile, Any, list[Finding]]] = []
    for source in sources:
        file_schema = _file_schema(source, schema, explicit=args.schema is not None)
        expect = bool if (source.audiences or args.audience) else None
        for query in source.queries:
            diagnostics = check(query.text, file_schema, expect=expect, **_limits(args, config))
            placed = [Finding(source.place(query, d), source.path, query.name, query.name_line)
                      for d in diagnostics]
            results.append((source, query, keep(placed, lint, directives)))
    findings = [f for _, _, found in results for f in found]
    errors = sum(1 for f in findings if f.diagnostic.is_error)
    warnings = sum(1 for f in findings if f.diagnostic.severity is Severity.WARNING)
    failing = sum(1 for _, _, found in results if any(f.diagnostic.is_error for f in found))
    if args.format == "json":
        print_json({
            "version": 1,
            "files": [source.path for source in sources],
            "queries": [
                {
                    "file": source.path, "name": query.name, "query": query.text,
                    "line": source.place(query, _origin()).span.line,
                    "column": source.place(query, _origin()).span.column,
                    "diagnostics": [f.diagnostic.to_json() for f in found],
                }
                for source, query, found in results
            ],
            "summary": {"queries": len(results), "failing": failing, "errors": errors,
                        "warnings": warnings},
        })
    elif args.format == "text":
        from segmentql.cli.output import write_text

        texts = {source.path: source.text for source in sources}
        out = [render_text(f.diagnostic, texts[f.file], filename=f.file) for f in findings]
        noun = "query" if len(results) == 1 else "queries"
        out.append(f"Checked {len(results)} {noun}: {failing} with errors. "
                   + summary_line(errors, warnings))
        write_text("\n\n".join(out))
    else:
        _machine_output(args.format, findings)
    return EXIT_FINDINGS if fails(findings, lint) else EXIT_OK


def _origin() -> Any:
    """A zero-width diagnostic at a query's start (to find where the query is in its file)."""
    from segmentql.diagnostics import Diagnostic, Severity, Span

    return Diagnostic("", Severity.INFO, "", Span(0, 0, 1, 1, 1, 1))


def _file_schema(source: QueryFile, schema: Schema, *, explicit: bool) -> Schema:
    """An audience file's own `schema:` entry, unless `--schema` was given."""
    from segmentql.errors import SchemaError
    from segmentql.schema import Schema

    if explicit or source.schema is None:
        return schema
    try:
        if isinstance(source.schema, dict):
            return Schema.from_dict(source.schema)
        path = Path(source.schema)
        if not path.is_absolute():
            path = Path(source.path).parent / path
        return Schema.load(path)
    except (SchemaError, OSError) as exc:
        raise CommandError(f"{source.path}: invalid schema: {exc}") from None


def _machine_output(output: str, findings: list[Finding]) -> None:
    from segmentql import __version__
    from segmentql.cli.output import dump_json, github, sarif

    if output == "github":
        text = github(findings)
        if text:
            sys.stdout.write(text + "\n")
    else:
        sys.stdout.write(dump_json(sarif(findings, version=__version__)) + "\n")


def _shown(path: Path) -> str:
    """A configured file as the user would name it: relative to the working directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
