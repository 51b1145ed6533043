"""Audience test files (`test_*.audience.yaml`): reading, validating, and where things are.

    schema: schema.yaml            # optional: a path (relative to this file) or an inline schema
    audiences:                     # named queries the cases refer to
      pro_pricing: user's plan is "pro" and session's landingPage matches "pricing"
    cases:
      - name: pro user on the pricing page
        audience: pro_pricing      # or `query: <text>`
        variables: {user: {plan: pro}, session: {landingPage: /pricing}}
        expect: true               # or false, {value: ...}, {error: Q301}
      - name: built from events
        audience: pro_pricing
        events: [...]              # state-model events applied to a fresh ProfileStore
        snapshot: {anonymous_id: a1, page: {url: /pricing}}   # optional: whose snapshot
        now: 2024-05-01T12:00:00Z
        time_zone: Europe/Paris
        expect: false

Scalars that look like dates stay strings (as in JSON profiles). Every mapping remembers its
line so failures and file errors point into the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

FILE_KEYS = ("schema", "audiences", "cases", "description")
CASE_KEYS = (
    "name", "description", "audience", "query", "variables", "events", "snapshot", "now",
    "time_zone", "expect", "skip",
)
SNAPSHOT_KEYS = (
    "anonymous_id", "user_id", "page", "location", "device", "browser", "campaign", "cart",
    "context",
)


class AudienceFileError(Exception):
    """A malformed audience test file: `message` at 1-based `line` of `path`."""

    def __init__(self, message: str, path: str | Path, line: int | None = None) -> None:
        self.message = message
        self.path = str(path)
        self.line = line
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


# ------------------------------------------------------------------------------------------
# Expectations and cases
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expect:
    """What a case expects: a match (`matches` is True/False), a `value`, or an error code."""

    matches: bool | None = None
    value: Any = None
    has_value: bool = False
    error: str | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"error {self.error}"
        if self.has_value:
            return f"value {self.value!r}"
        return "a match" if self.matches else "no match"


@dataclass(frozen=True)
class QueryOrigin:
    """Where a query's text sits in its YAML file, to point into the file rather than into
    the query: the scalar's 1-based line and column, its style (None plain, '"', "'", '|',
    '>'), and the file's lines."""

    path: Path
    line: int
    column: int
    style: str | None
    lines: tuple[str, ...]

    def position(self, line: int, column: int, text: str = "") -> tuple[int, int]:
        """The file line and column of 1-based `line`:`column` of the query. Exact for
        literal blocks (`|`) and single-line scalars without escapes; otherwise the first
        file line of the scalar holding `text` (the snippet found there), else its start."""
        if self.style in ("|", ">"):
            first, indent = self._block_start()
            if self.style == "|":
                return first + line - 1, indent + column
        elif line == 1 and self._single_line():
            at = self.column + column - 1 + (1 if self.style else 0)
            if self.line <= len(self.lines) and at <= len(self.lines[self.line - 1]) + 1:
                return self.line, at  # else a plain scalar folded over several lines
        if text:
            snippet = text.split("\n")[0].strip()[:40]
            for number in range(self.line, min(len(self.lines), self.line + 200) + 1):
                found = self.lines[number - 1].find(snippet)
                if snippet and found >= 0:
                    return number, found + 1
        return self.line, self.column

    def _single_line(self) -> bool:
        rest = self.lines[self.line - 1][self.column - 1:] if self.line <= len(self.lines) else ""
        if self.style in ('"', "'"):
            body = rest[1:]
            return self.style in body and "\\" not in body.split(self.style)[0] and (
                self.style != "'" or "''" not in body)
        return True

    def _block_start(self) -> tuple[int, int]:
        for number in range(self.line + 1, len(self.lines) + 1):
            content = self.lines[number - 1]
            if content.strip():
                return number, len(content) - len(content.lstrip(" "))
        return self.line + 1, 0

    def locate(self, line: int, column: int, text: str = "") -> str:
        """`path:line:column` of a query position."""
        at_line, at_column = self.position(line, column, text)
        return f"{self.path}:{at_line}:{at_column}"


@dataclass(frozen=True)
class Case:
    """One test case of an audience file."""

    name: str
    line: int
    query: str
    #: The audience name, or None for an inline `query:`.
    audience: str | None
    expect: Expect
    variables: Mapping[str, Any] | None = None
    events: list[Any] | None = None
    snapshot: Mapping[str, Any] = field(default_factory=dict)
    now: str | None = None
    time_zone: str = "UTC"
    skip: str | None = None
    #: Where the query's text is in the file (the audience's, or the case's `query:`).
    origin: QueryOrigin | None = None


@dataclass(frozen=True)
class AudienceFile:
    path: Path
    #: A path (resolved against the file) or an inline schema mapping; None: the default.
    schema: Path | Mapping[str, Any] | None
    audiences: Mapping[str, str]
    cases: list[Case]


# ------------------------------------------------------------------------------------------
# YAML with lines
# ------------------------------------------------------------------------------------------


class LineMapping(dict[str, Any]):
    """A YAML mapping that knows its 1-based line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]
    #: (1-based line, 1-based column, style) of each string value.
    value_marks: dict[str, tuple[int, int, str | None]]


class _Loader(yaml.SafeLoader):
    pass


# Keep ISO dates and times as strings, as they would be in a JSON profile.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineMapping:
    loader.flatten_mapping(node)
    mapping = LineMapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    mapping.value_marks = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"duplicate key {key!r}", key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.ScalarNode):
            mark = value_node.start_mark
            mapping.value_marks[key] = (mark.line + 1, mark.column + 1, value_node.style)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, path: str | Path) -> Any:
    """YAML (or JSON) with line-aware mappings; errors as `AudienceFileError`."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        raise AudienceFileError(f"invalid YAML: {message}", path, line) from None
    except yaml.YAMLError as exc:
        raise AudienceFileError(f"invalid YAML: {exc}", path) from None


# ------------------------------------------------------------------------------------------
# Reading a file
# ------------------------------------------------------------------------------------------


def read_audience_file(
    path: str | Path, project_audiences: Mapping[str, str] | None = None
) -> AudienceFile:
    """Read and validate an audience test file; `AudienceFileError` says what and where.

    `audiences` in the file is a mapping of names to queries, or a path (or list of paths,
    relative to the file) of audience files; `project_audiences` (the project configuration's
    audiences) supplies the names the file does not define."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AudienceFileError(f"cannot read the file: {exc}", path) from None
    data = load_yaml(text, path)
    lines = tuple(text.splitlines())

    def origin(mapping: Any, key: str) -> QueryOrigin | None:
        marks = getattr(mapping, "value_marks", {}).get(key)
        if marks is None:
            return None
        return QueryOrigin(path, marks[0], marks[1], marks[2], lines)

    if not isinstance(data, LineMapping):
        raise AudienceFileError(
            "an audience file is a mapping with `audiences` and `cases`", path, 1
        )
    _no_unknown_keys(data, FILE_KEYS, "the file", path)
    schema: Path | Mapping[str, Any] | None = None
    raw_schema = data.get("schema")
    if isinstance(raw_schema, str):
        schema = (path.parent / raw_schema).resolve()
    elif isinstance(raw_schema, Mapping):
        schema = raw_schema
    elif raw_schema is not None:
        raise AudienceFileError(
            "`schema` is a path or a mapping", path, data.key_lines.get("schema")
        )
    audiences = data.get("audiences") or {}
    if isinstance(audiences, str | list):
        audiences = _audiences_from_files(audiences, path, data.key_lines.get("audiences"))
    if not isinstance(audiences, Mapping):
        raise AudienceFileError(
            "`audiences` maps names to queries", path, data.key_lines.get("audiences")
        )
    named: dict[str, str] = {}
    origins: dict[str, QueryOrigin | None] = {}
    for name, query in audiences.items():
        origins[str(name)] = origin(audiences, name)
        if isinstance(query, Mapping) and isinstance(query.get("query"), str):
            origins[str(name)] = origin(query, "query")
            query = query["query"]
        if not isinstance(query, str):
            line = audiences.key_lines.get(name) if isinstance(audiences, LineMapping) else None
            raise AudienceFileError(f"audience {name!r}: the query must be a string", path, line)
        named[str(name)] = query
    for name, query in (project_audiences or {}).items():
        named.setdefault(name, query)
    raw_cases = data.get("cases")
    if raw_cases is None:
        raise AudienceFileError("no `cases`: nothing to test", path, data.line)
    if not isinstance(raw_cases, list):
        raise AudienceFileError("`cases` is a list", path, data.key_lines.get("cases"))
    cases: list[Case] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_cases):
        case = _read_case(raw, index, named, path, data.key_lines.get("cases"))
        where = origins.get(case.audience) if case.audience else origin(raw, "query")
        case = replace(case, origin=where)
        if case.name in seen:
            raise AudienceFileError(f"two cases are named {case.name!r}", path, case.line)
        seen.add(case.name)
        cases.append(case)
    return AudienceFile(path, schema, named, cases)


def load_audiences(path: Path) -> dict[str, str]:
    """The named queries of an audience file (`{name: query}` at the top level or under
    `audiences:`, a value a query or `{query: ...}`); `AudienceFileError` when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AudienceFileError(f"cannot read the audience file: {exc}", path) from None
    data = load_yaml(text, path)
    if isinstance(data, Mapping) and isinstance(data.get("audiences"), Mapping):
        data = data["audiences"]
    if not isinstance(data, Mapping):
        raise AudienceFileError("an audience file maps audience names to queries", path, 1)
    named: dict[str, str] = {}
    for name, query in data.items():
        if isinstance(query, Mapping):
            query = query.get("query")
        if isinstance(query, str) and name not in ("schema", "description", "version"):
            named[str(name)] = query
    return named


def _audiences_from_files(value: str | list[Any], path: Path, line: int | None
                          ) -> dict[str, str]:
    files = [value] if isinstance(value, str) else value
    named: dict[str, str] = {}
    for entry in files:
        if not isinstance(entry, str):
            raise AudienceFileError("`audiences` is a mapping, a file path or a list of paths",
                                    path, line)
        target = (path.parent / entry).resolve()
        if not target.is_file():
            raise AudienceFileError(f"audience file not found: {entry}", path, line)
        named.update(load_audiences(target))
    return named


def _no_unknown_keys(
    mapping: LineMapping, allowed: tuple[str, ...], what: str, path: Path
) -> None:
    for key in mapping:
        if key not in allowed:
            import difflib

            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise AudienceFileError(
                f"unknown key {key!r} in {what}{hint}; allowed: {', '.join(allowed)}",
                path, mapping.key_lines.get(key, mapping.line),
            )


def _read_case(
    raw: Any, index: int, audiences: Mapping[str, str], path: Path, cases_line: int | None
) -> Case:
    if not isinstance(raw, LineMapping):
        raise AudienceFileError(f"case #{index + 1} is not a mapping", path, cases_line)
    line = raw.line
    name = raw.get("name", f"case {index + 1}")
    if not isinstance(name, str | int | float) or isinstance(name, bool):
        raise AudienceFileError("a case's `name` is a string", path, line)
    name = str(name)
    where = f"case {name!r}"
    _no_unknown_keys(raw, CASE_KEYS, where, path)

    def fail(message: str, key: str | None = None) -> AudienceFileError:
        return AudienceFileError(f"{where}: {message}", path, raw.key_lines.get(key or "", line))

    audience = raw.get("audience")
    query = raw.get("query")
    if (audience is None) == (query is None):
        raise fail("give exactly one of `audience` (a name) or `query` (the text)")
    if audience is not None:
        if audience not in audiences:
            known = ", ".join(sorted(audiences)) or "none"
            raise fail(f"unknown audience {audience!r} (audiences: {known})", "audience")
        text = audiences[audience]
    elif isinstance(query, str):
        text = query
    else:
        raise fail("`query` is the query text", "query")
    variables = raw.get("variables")
    events = raw.get("events")
    if variables is not None and not isinstance(variables, Mapping):
        raise fail("`variables` maps variable names to values", "variables")
    if events is not None and not isinstance(events, list):
        raise fail("`events` is a list of state-model events", "events")
    if variables is None and events is None:
        raise fail("give `variables` or `events` (or both)")
    snapshot = raw.get("snapshot")
    if snapshot is None:
        snapshot = LineMapping()
        snapshot.key_lines = {}
    if not isinstance(snapshot, LineMapping):
        raise fail("`snapshot` is a mapping (anonymous_id, user_id, page, ...)", "snapshot")
    if events is None and snapshot:
        raise fail("`snapshot` needs `events`", "snapshot")
    for key in snapshot:
        if key not in SNAPSHOT_KEYS:
            raise AudienceFileError(
                f"{where}: unknown key {key!r} in `snapshot`; allowed: {', '.join(SNAPSHOT_KEYS)}",
                path, snapshot.key_lines.get(key, snapshot.line),
            )
    now = raw.get("now")
    if now is not None and not isinstance(now, str):
        raise fail("`now` is an ISO-8601 date-time", "now")
    time_zone = raw.get("time_zone", "UTC")
    if not isinstance(time_zone, str):
        raise fail("`time_zone` is a zone name such as Europe/Paris", "time_zone")
    skip = raw.get("skip")
    if skip is not None and not isinstance(skip, str | bool):
        raise fail("`skip` is a reason (a string) or true", "skip")
    if "expect" not in raw:
        raise fail("no `expect` (true, false, {value: ...} or {error: CODE})")
    expect = _read_expect(raw["expect"], fail)
    return Case(
        name=name, line=line, query=text, audience=audience, expect=expect,
        variables=variables, events=events, snapshot=dict(snapshot), now=now,
        time_zone=time_zone,
        skip=(skip if isinstance(skip, str) else "skipped") if skip else None,
    )


def _read_expect(raw: Any, fail: Any) -> Expect:
    if isinstance(raw, bool):
        return Expect(matches=raw)
    if isinstance(raw, Mapping) and len(raw) == 1:
        if "value" in raw:
            return Expect(value=raw["value"], has_value=True)
        if "error" in raw and isinstance(raw["error"], str):
            return Expect(error=raw["error"])
    raise fail(
        "`expect` is true, false, {value: <expected value>} or {error: <code such as Q301>}",
        "expect",
    )
