"""Queries embedded in audience files (YAML or JSON), with a map back to file offsets.

An audience file holds named queries:

    audiences:                      # or the named queries at the top level
      pro_pricing: user's plan is "pro"
      returning:
        query: |
          user is returning and session's landingPage matches "pricing"
    cases:                          # audience test files: `query:` of a case is a query too
      - query: user's age is at least 18

Each query is a YAML scalar (plain, quoted or block) or a JSON string. Its value differs from
its text in the file (quotes, escapes, indentation, folded lines), so every embedded query
carries `offsets`: for each code point of the value, the code-point offset in the file of the
text that produced it (plus one entry for the end). Diagnostics from the checker are mapped
through it to the exact place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

#: Top-level keys of an audience file that are not queries.
RESERVED_KEYS = frozenset({"schema", "description", "version", "extends", "cases", "audiences"})


@dataclass(frozen=True, slots=True)
class EmbeddedQuery:
    """A query found in an audience file."""

    name: str
    text: str
    #: `offsets[i]` is the file offset of query code point `i`; `offsets[len(text)]` the end.
    offsets: tuple[int, ...]
    #: File offsets of the whole scalar (quotes and block header included).
    start: int
    end: int
    #: The YAML scalar style: None (plain), `'`, `"`, `|` or `>`.
    style: str | None = None

    def to_file(self, offset: int) -> int:
        """The file offset of a query offset (clamped to the query)."""
        return self.offsets[max(0, min(offset, len(self.text)))]

    def from_file(self, file_offset: int) -> int | None:
        """The query offset at a file offset, or None when the offset is outside the query."""
        if not self.start <= file_offset <= self.end:
            return None
        best = None
        for index, at in enumerate(self.offsets):
            if at <= file_offset:
                best = index
            else:
                break
        return 0 if best is None else best


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A problem with the audience file itself (YAML syntax), at file offsets."""

    message: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AudienceDocument:
    queries: tuple[EmbeddedQuery, ...]
    problems: tuple[FileProblem, ...]
    #: The `schema:` entry: a path (relative to the file) or an inline mapping.
    schema: str | dict[str, Any] | None = None


def is_audience_file(uri_or_path: str) -> bool:
    """Whether a file name is an audience file (`*.audiences.yaml`, `*.audience.yaml`, ...)."""
    name = uri_or_path.rsplit("/", 1)[-1].lower()
    return bool(re.search(r"\.audiences?\.(ya?ml|json)$", name))


def read_audience_document(text: str) -> AudienceDocument:
    """Every query of an audience file, with offset maps; YAML errors as `FileProblem`s."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.index if mark is not None else 0
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        return AudienceDocument((), (FileProblem(f"invalid YAML: {message}", at, at + 1),))
    except yaml.YAMLError as exc:
        return AudienceDocument((), (FileProblem(f"invalid YAML: {exc}", 0, 1),))
    if not isinstance(root, yaml.MappingNode):
        return AudienceDocument((), ())
    found: list[EmbeddedQuery] = []
    schema: str | dict[str, Any] | None = None
    entries = _pairs(root)
    audiences = entries.get("audiences")
    if isinstance(audiences, yaml.MappingNode):
        _collect_named(text, audiences, found)
    elif audiences is None:
        top = [(k, v) for k, v in root.value
               if isinstance(k, yaml.ScalarNode) and k.value not in RESERVED_KEYS]
        _collect_named(text, yaml.MappingNode("tag:yaml.org,2002:map", top), found)
    cases = entries.get("cases")
    if isinstance(cases, yaml.SequenceNode):
        for index, case in enumerate(cases.value):
            if isinstance(case, yaml.MappingNode):
                fields = _pairs(case)
                query = fields.get("query")
                name_node = fields.get("name")
                name = name_node.value if isinstance(name_node, yaml.ScalarNode) else f"#{index}"
                if isinstance(query, yaml.ScalarNode):
                    found.append(embed(text, query, f"case {name}"))
    schema_node = entries.get("schema")
    if isinstance(schema_node, yaml.ScalarNode):
        schema = schema_node.value
    elif isinstance(schema_node, yaml.MappingNode):
        try:
            loaded = yaml.safe_load(text[schema_node.start_mark.index:schema_node.end_mark.index])
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            schema = loaded
    return AudienceDocument(tuple(found), (), schema)


def _pairs(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _collect_named(text: str, mapping: yaml.MappingNode, found: list[EmbeddedQuery]) -> None:
    for key, value in mapping.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:str":
            found.append(embed(text, value, key.value))
        elif isinstance(value, yaml.MappingNode):
            query = _pairs(value).get("query")
            if isinstance(query, yaml.ScalarNode):
                found.append(embed(text, query, key.value))


# ------------------------------------------------------------------------------------------
# Scalars: value + offsets
# ------------------------------------------------------------------------------------------


def embed(text: str, node: yaml.ScalarNode, name: str) -> EmbeddedQuery:
    """The query of one scalar node, mapped to file offsets (exactly when the scalar's style is
    decoded here and agrees with PyYAML's value, else every offset maps to the scalar start)."""
    start, end = node.start_mark.index, node.end_mark.index
    value = _join_surrogates(str(node.value))
    decoded = _decode(text, start, end, node.style)
    if decoded is not None:
        chars, offsets = decoded
        if any("\ud800" <= c <= "\udfff" for c in chars):
            chars, offsets = _join_surrogate_chars(chars, offsets)
        if chars == value:
            return EmbeddedQuery(
                name, value, (*offsets, _end_of(offsets, end)), start, end, node.style
            )
        if chars.rstrip("\n") == value.rstrip("\n"):
            # Block chomping only changes trailing breaks: map them to the last line's end.
            kept = list(offsets[: len(value)])
            while len(kept) < len(value):
                kept.append(_end_of(kept, end))
            return EmbeddedQuery(
                name, value, (*kept, _end_of(kept, end)), start, end, node.style
            )
    return EmbeddedQuery(name, value, tuple([start] * (len(value) + 1)), start, end, node.style)


def _join_surrogates(value: str) -> str:
    """JSON writes an emoji as two escapes (`\\ud83d\\ude00`) and PyYAML keeps them as two
    lone surrogates: join each pair into its character (lone ones stay)."""
    if not any("\ud800" <= c <= "\udfff" for c in value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _join_surrogate_chars(chars: str, offsets: list[int]) -> tuple[str, list[int]]:
    out: list[str] = []
    out_offsets: list[int] = []
    i = 0
    while i < len(chars):
        c = chars[i]
        high = "\ud800" <= c <= "\udbff"
        if high and i + 1 < len(chars) and "\udc00" <= chars[i + 1] <= "\udfff":
            out.append(_join_surrogates(c + chars[i + 1]))
            out_offsets.append(offsets[i])
            i += 2
            continue
        out.append(c)
        out_offsets.append(offsets[i])
        i += 1
    return "".join(out), out_offsets


def _end_of(offsets: Sequence[int], end: int) -> int:
    return offsets[-1] + 1 if offsets else end


def _decode(text: str, start: int, end: int, style: str | None) -> tuple[str, list[int]] | None:
    if style is None:
        return _fold_flow(text, start, end, quote=None)
    if style in ("'", '"'):
        return _fold_flow(text, start + 1, end - 1, quote=style)
    if style in ("|", ">"):
        return _block(text, start, end, folded=style == ">")
    return None


_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}


def _fold_flow(text: str, start: int, end: int, quote: str | None) -> tuple[str, list[int]] | None:
    """Plain and quoted scalars: line folding (a single break is a space, n empty lines are n
    breaks), trimmed line edges, and the quote style's escapes."""
    chars: list[str] = []
    offsets: list[int] = []
    lines: list[tuple[int, int]] = []
    at = start
    while True:
        nl = text.find("\n", at, end)
        if nl < 0:
            lines.append((at, end))
            break
        lines.append((at, nl))
        at = nl + 1
    pending_breaks = 0
    joined_escape = False
    for number, (line_start, line_end) in enumerate(lines):
        first, last = number == 0, number == len(lines) - 1
        a, b = line_start, line_end
        if b > a and text[b - 1] == "\r":
            b -= 1
        if not first:
            while a < b and text[a] in " \t":
                a += 1
        if not last:
            while b > a and text[b - 1] in " \t":
                b -= 1
        if a == b and not first and not last:
            pending_breaks += 1
            continue
        if not first:
            if joined_escape:
                pass
            elif pending_breaks:
                for _ in range(pending_breaks):
                    chars.append("\n")
                    offsets.append(line_start - 1)
            else:
                chars.append(" ")
                offsets.append(line_start - 1)
        pending_breaks = 0
        joined_escape = False
        i = a
        while i < b:
            c = text[i]
            if quote == "'" and c == "'" and i + 1 < b and text[i + 1] == "'":
                chars.append("'")
                offsets.append(i)
                i += 2
                continue
            if quote == '"' and c == "\\":
                if i + 1 >= b:
                    joined_escape = True
                    i += 1
                    continue
                code = text[i + 1]
                if code in _HEX_LENGTH:
                    digits = text[i + 2 : i + 2 + _HEX_LENGTH[code]]
                    try:
                        chars.append(chr(int(digits, 16)))
                    except ValueError:
                        return None
                    offsets.append(i)
                    i += 2 + _HEX_LENGTH[code]
                    continue
                if code not in _ESCAPES:
                    return None
                chars.append(_ESCAPES[code])
                offsets.append(i)
                i += 2
                continue
            chars.append(c)
            offsets.append(i)
            i += 1
    return "".join(chars), offsets


_BLOCK_HEADER = re.compile(r"[|>]([+-]?)([1-9]?)([+-]?)[ \t]*(#[^\n]*)?(\r?\n|$)")


def _block(text: str, start: int, end: int, *, folded: bool) -> tuple[str, list[int]] | None:
    """Literal (`|`) and folded (`>`) block scalars with auto-detected indentation."""
    header = _BLOCK_HEADER.match(text, start, end)
    if header is None or header.group(2):
        return None
    body_start = header.end()
    raw_lines: list[tuple[int, int]] = []
    at = body_start
    while at < end:
        nl = text.find("\n", at, end)
        stop = end if nl < 0 else nl
        raw_lines.append((at, stop))
        at = stop + 1
    indent = None
    for a, b in raw_lines:
        stripped = text[a:b].lstrip(" ")
        if stripped.strip():
            indent = len(text[a:b]) - len(stripped)
            break
    if indent is None:
        return "", []
    chars: list[str] = []
    offsets: list[int] = []
    previous: str | None = None  # "text", "more" (more indented) or "empty"
    for a, b in raw_lines:
        if b > a and text[b - 1] == "\r":
            b -= 1
        content_start = a + indent
        is_empty = not text[a:b].strip()
        kind = "empty" if is_empty else (
            "more" if content_start < b and text[content_start] in " \t" else "text")
        if previous is not None:
            if folded and kind == "text" and previous == "text":
                chars.append(" ")
                offsets.append(a - 1)
            elif not (folded and kind == "empty" and previous == "text"):
                # (in folded style the break before an empty line is dropped)
                chars.append("\n")
                offsets.append(a - 1)
        for i in range(min(content_start, b), b):
            chars.append(text[i])
            offsets.append(i)
        previous = kind
    return "".join(chars), offsets


# ------------------------------------------------------------------------------------------
# Formatting queries in place
# ------------------------------------------------------------------------------------------


def format_audience_document(text: str, format_query: Callable[[str], str | None]) -> str:
    """`text` with every query that formats differently rewritten in place, in a scalar of
    the same style where that keeps the value (else a double-quoted one). A rewrite is kept
    only if reading the file back gives exactly the formatted query."""
    document = read_audience_document(text)
    if document.problems:
        return text
    edits: list[tuple[int, int, str]] = []
    for query in document.queries:
        formatted = format_query(query.text)
        if formatted is None or formatted == query.text.rstrip("\n"):
            continue
        for candidate in _scalars(text, query, formatted):
            rewritten = text[: query.start] + candidate + text[query.end :]
            again = read_audience_document(rewritten)
            found = [q for q in again.queries if q.start == query.start and q.name == query.name]
            if found and found[0].text.rstrip("\n") == formatted:
                edits.append((query.start, query.end, candidate))
                break
    for start, end, candidate in sorted(edits, reverse=True):
        text = text[:start] + candidate + text[end:]
    return text


def _scalars(text: str, query: EmbeddedQuery, formatted: str) -> Iterator[str]:
    """Spellings of `formatted` as a YAML scalar at `query`'s place, preferred first."""
    import json

    if query.style in ("|", ">"):
        header_end = text.find("\n", query.start)
        body = text[header_end + 1 : query.end] if header_end >= 0 else ""
        first = next((line for line in body.split("\n") if line.strip()), "")
        indent = first[: len(first) - len(first.lstrip(" "))]
        header = text[query.start : header_end] if query.style == "|" else "|-"
        lines = "\n".join(indent + line if line else line for line in formatted.split("\n"))
        trailing = text[query.start : query.end][len(text[query.start : header_end]) :]
        ending = "\n" if trailing.endswith("\n") else ""
        yield f"{header}\n{lines}{ending}"
    elif "\n" not in formatted:
        if query.style is None:
            yield formatted
        elif query.style == "'":
            yield "'" + formatted.replace("'", "''") + "'"
    yield json.dumps(formatted, ensure_ascii=False)
