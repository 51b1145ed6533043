"""`segmentql parse` (the AST as a tree or JSON) and `segmentql fmt` (canonical text)."""

from __future__ import annotations

import argparse
import enum
import sys
from dataclasses import fields
from typing import Any

from segmentql.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    add_format_argument,
    add_query_argument,
    print_json,
    read_query,
    read_text_file,
)


def register(subparsers: Any) -> None:
    parse = subparsers.add_parser(
        "parse", help="parse a query and print its syntax tree",
        description="Parse a query and print its syntax tree (text) or the AST as JSON.",
    )
    add_query_argument(parse)
    add_format_argument(parse)
    parse.set_defaults(handler=_parse)

    fmt = subparsers.add_parser(
        "fmt", help="print a query in canonical form, or rewrite files of queries",
        description="Print a query in the canonical natural style; given .segmentql files "
        "and YAML/JSON audience files, rewrite every query in them in place (--check: only "
        "say which files would change; --diff: print the changes). A query with comments is "
        "left as written (the canonical form has no comments).",
    )
    fmt.add_argument(
        "targets", nargs="*", metavar="QUERY | FILE",
        help="a query ('-' or nothing reads it from standard input), or files to format",
    )
    mode = fmt.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 when a file would be reformatted")
    mode.add_argument("--diff", action="store_true",
                      help="write nothing; print a unified diff of the changes, exit 1 if any")
    add_format_argument(fmt)
    fmt.set_defaults(handler=_fmt)


def _parse(args: argparse.Namespace) -> int:
    from segmentql.syntax.ast_json import to_json
    from segmentql.syntax.parser import parse_with_diagnostics

    text = read_query(args.query)
    result = parse_with_diagnostics(text)
    if not result.ok or result.ast is None:
        return _report(result.diagnostics, text, args.format)
    if args.format == "json":
        print_json(to_json(result.ast))
    else:
        print(tree_text(result.ast))
    return EXIT_OK


def _fmt(args: argparse.Namespace) -> int:
    from segmentql.cli.sources import is_query_file
    from segmentql.errors import QuerySyntaxError
    from segmentql.syntax.formatter import format_query

    targets = list(args.targets)
    if targets and (len(targets) > 1 or is_query_file(targets[0])):
        return _fmt_files(args, targets)
    if args.check or args.diff:
        raise CommandError("--check and --diff work on files: name .segmentql or audience files")
    text = read_query(targets[0] if targets else None)
    try:
        formatted = format_query(text)
    except QuerySyntaxError as error:
        return _report(error.diagnostics, text, args.format)
    if args.format == "json":
        print_json({"version": 1, "formatted": formatted, "diagnostics": []})
    else:
        print(formatted)
    return EXIT_OK


def _fmt_files(args: argparse.Namespace, paths: list[str]) -> int:
    """Format files in place (or check / diff them); exit 1 when something would change or a
    query does not parse."""
    import difflib
    from pathlib import Path

    from segmentql.cli.sources import AUDIENCE_FILE_SUFFIXES, QUERY_FILE_SUFFIXES, is_query_file
    from segmentql.diagnostics import render_all
    from segmentql.lsp.documents import format_audience_document, read_audience_document
    from segmentql.syntax.parser import parse_with_diagnostics

    changed: list[str] = []
    problems = 0
    for path in paths:
        suffix = Path(path).suffix.lower()
        if not is_query_file(path) or suffix not in (*QUERY_FILE_SUFFIXES,
                                                     *AUDIENCE_FILE_SUFFIXES):
            raise CommandError(f"not a .segmentql or audience file: {path}")
        text = read_text_file(path, "query")
        skipped: list[str] = []

        def canonical(query: str, name: str, *, _skipped: list[str] = skipped) -> str | None:
            result = parse_with_diagnostics(query)
            if not result.ok:
                _skipped.append(render_all(result.diagnostics, query, filename=name))
                return None
            if has_comments(query):
                _skipped.append(f"{name}: left as written: it has comments, which the "
                                "canonical form drops")
                return None
            from segmentql.syntax.formatter import format_query

            return format_query(query)

        if suffix in QUERY_FILE_SUFFIXES:
            body = text.rstrip("\n")
            formatted = canonical(body, path)
            new = text if formatted is None else formatted + "\n"
        else:
            document = read_audience_document(text)
            if document.problems:
                print(f"{path}: {document.problems[0].message}", file=sys.stderr)
                problems += 1
                continue
            names = {q.text: q.name for q in document.queries}

            def in_file(query: str, *, _path: str = path, _names: dict[str, str] = names
                        ) -> str | None:
                return canonical(query, f"{_path} ({_names.get(query, 'query')})")

            new = format_audience_document(text, in_file)
        for message in skipped:
            if "left as written" not in message:
                problems += 1
            print(message, file=sys.stderr)
        if new == text:
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(keepends=True), new.splitlines(keepends=True),
                fromfile=path, tofile=path,
            ))
        elif args.check:
            print(f"would reformat {path}")
        else:
            Path(path).write_text(new, encoding="utf-8")
    unchanged = len(paths) - len(changed)
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    print(f"{len(changed)} file{'s' * (len(changed) != 1)} {verb}, {unchanged} left unchanged",
          file=sys.stderr)
    if problems:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if changed and (args.check or args.diff) else EXIT_OK


def has_comments(query: str) -> bool:
    """Whether a query holds `//` or `/* */` comments (the lexer says, so `"a // b"` does
    not count)."""
    from lark.exceptions import LarkError

    from segmentql.syntax.parser import _parser

    try:
        return any("COMMENT" in token.type for token in _parser().lex(query, dont_ignore=True))
    except LarkError:
        return "//" in query or "/*" in query


def _report(diagnostics: Any, text: str, output: str) -> int:
    from segmentql.diagnostics import diagnostics_to_json, render_all

    if output == "json":
        print_json(diagnostics_to_json(diagnostics))
    else:
        print(render_all(diagnostics, text), file=sys.stderr)
    return EXIT_FINDINGS


def tree_text(node: Any) -> str:
    """An indented, one-node-per-line view of an AST:

        Binary op=and  1:1-1:40
          left: Test op=equal  1:1-1:20
            subject: Attribute name='plan'  1:1-1:12
    """
    from segmentql.syntax.ast import Node

    lines: list[str] = []
    stack: list[tuple[str, Node, int]] = [("", node, 0)]
    while stack:
        label, current, depth = stack.pop()
        scalars: list[str] = []
        children: list[tuple[str, Node]] = []
        for f in fields(current):
            if f.name == "span":
                continue
            value = getattr(current, f.name)
            if isinstance(value, Node):
                children.append((f.name, value))
            elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
                children.extend((f"{f.name}[{i}]", v) for i, v in enumerate(value))
            elif value is not None and value != () and f.default is not value:
                scalars.append(f"{f.name}={_scalar(value)}")
        span = current.span
        where = f"{span.line}:{span.column}-{span.end_line}:{span.end_column}"
        prefix = f"{label}: " if label else ""
        detail = " ".join(scalars)
        lines.append(f"{'  ' * depth}{prefix}{type(current).__name__}"
                     f"{' ' + detail if detail else ''}  {where}")
        stack.extend((name, child, depth + 1) for name, child in reversed(children))
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, tuple):
        inner = ", ".join(_scalar(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)
