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
    add_format_argument,
    add_query_argument,
    print_json,
    read_query,
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
        "fmt", help="print a query in canonical form",
        description="Print a query in the canonical natural style.",
    )
    add_query_argument(fmt)
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
    from segmentql.errors import QuerySyntaxError
    from segmentql.syntax.formatter import format_query

    text = read_query(args.query)
    try:
        formatted = format_query(text)
    except QuerySyntaxError as error:
        return _report(error.diagnostics, text, args.format)
    if args.format == "json":
        print_json({"version": 1, "formatted": formatted, "diagnostics": []})
    else:
        print(formatted)
    return EXIT_OK


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
