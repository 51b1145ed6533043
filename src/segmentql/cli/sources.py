"""Files of queries as the CLI reads them: every query with its place in the file.

- `.segmentql`: the whole file is one query (as in the editor).
- `.yaml` / `.yml` / `.json`: an audience file, `{name: query}` at the top level or under
  `audiences:`; a value may be a mapping with a `query:` key, and audience test files add the
  `query:` of each case. A `schema:` entry names the file's own schema (a path relative to
  the file, or an inline schema).
- anything else (`.txt`): one query per line; blank lines and lines starting with `#` skipped.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentql.cli.common import CommandError, read_text_file

if TYPE_CHECKING:
    from segmentql.diagnostics import Diagnostic, Span

QUERY_FILE_SUFFIXES = (".segmentql",)
AUDIENCE_FILE_SUFFIXES = (".yaml", ".yml", ".json")
FILE_SUFFIXES = (*QUERY_FILE_SUFFIXES, *AUDIENCE_FILE_SUFFIXES, ".txt")


@dataclass(frozen=True, slots=True)
class FileQuery:
    """One query of a file; `offsets[i]` is the file offset of query code point `i`."""

    name: str
    text: str
    offsets: tuple[int, ...]
    #: The line of the audience's name (YAML/JSON files), else None.
    name_line: int | None = None


@dataclass(frozen=True, slots=True)
class QueryFile:
    path: str
    text: str
    queries: tuple[FileQuery, ...]
    #: Audience files: results must be boolean.
    audiences: bool
    #: The file's `schema:` entry: a path (relative to the file) or an inline mapping.
    schema: str | dict[str, Any] | None = None

    def place(self, query: FileQuery, diagnostic: Diagnostic) -> Diagnostic:
        """`diagnostic` (on the query's text) moved to the query's place in this file."""
        starts = _line_starts(self.text)

        def move(span: Span) -> Span:
            start = query.offsets[max(0, min(span.start, len(query.text)))]
            end = query.offsets[max(0, min(span.end, len(query.text)))]
            end = max(end, start)
            line, column = _position(starts, start)
            end_line, end_column = _position(starts, end)
            return replace(span, start=start, end=end, line=line, column=column,
                           end_line=end_line, end_column=end_column)

        return replace(diagnostic, span=move(diagnostic.span),
                       labels=tuple(replace(lb, span=move(lb.span)) for lb in diagnostic.labels))


def is_query_file(argument: str) -> bool:
    """Whether a command-line argument names a file of queries (an existing file with one of
    the suffixes above) rather than being a query itself."""
    path = Path(argument)
    return path.suffix.lower() in FILE_SUFFIXES and path.is_file()


def read_query_file(path: str) -> QueryFile:
    text = read_text_file(path, "query")
    suffix = Path(path).suffix.lower()
    if suffix in QUERY_FILE_SUFFIXES:
        body = text.rstrip("\n")
        return QueryFile(path, text, (FileQuery(Path(path).name, body,
                                                tuple(range(len(body) + 1))),), False)
    if suffix in AUDIENCE_FILE_SUFFIXES:
        return _audience_file(path, text)
    return QueryFile(path, text, tuple(_line_queries(text)), False)


def _line_queries(text: str) -> list[FileQuery]:
    queries: list[FileQuery] = []
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            indent = len(line) - len(line.lstrip())
            body = line.strip()
            start = offset + indent
            queries.append(FileQuery(f"line {number}", body,
                                     tuple(range(start, start + len(body) + 1))))
        offset += len(line) + 1
    return queries


def _audience_file(path: str, text: str) -> QueryFile:
    import json

    import yaml

    from segmentql.lsp.documents import RESERVED_KEYS, read_audience_document

    if path.lower().endswith(".json"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}:{exc.lineno}:{exc.colno}: not a valid YAML/JSON file: "
                               f"{exc.msg}") from None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise CommandError(f"{path}{where}: not a valid YAML/JSON file: "
                           f"{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CommandError(f"{path}: not a valid YAML/JSON file: {exc}") from None
    if root is None:
        return QueryFile(path, text, (), True)
    if not isinstance(root, yaml.MappingNode):
        raise CommandError(f"{path}: expected a mapping of audience names to queries")
    top = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    named = top.get("audiences")
    if named is not None:
        if not isinstance(named, yaml.MappingNode):
            raise CommandError(f"{path}:{named.start_mark.line + 1}: `audiences:` must be a "
                               "mapping of audience names to queries")
        pairs = list(named.value)
    else:
        pairs = [(k, v) for k, v in root.value
                 if not (isinstance(k, yaml.ScalarNode) and k.value in RESERVED_KEYS)]
    name_lines: dict[str, int] = {}
    for key, value in pairs:
        name = str(key.value)
        line = key.start_mark.line + 1
        query = value
        if isinstance(value, yaml.MappingNode):
            query = {k.value: v for k, v in value.value
                     if isinstance(k, yaml.ScalarNode)}.get("query")
        if not (isinstance(query, yaml.ScalarNode) and query.tag.endswith(":str")):
            raise CommandError(f"{path}:{line}: audience {name!r} must be a query string "
                               "(or a mapping with a `query:` string)")
        name_lines[name] = line
    document = read_audience_document(text)
    queries = tuple(
        FileQuery(q.name, q.text, q.offsets, name_lines.get(q.name)) for q in document.queries
    )
    return QueryFile(path, text, queries, True, document.schema)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of a code-point offset."""
    line = bisect.bisect_right(starts, offset) - 1
    return line + 1, offset - starts[line] + 1
