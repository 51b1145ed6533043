"""Reading (and refreshing) the entries of docs/errors.md.

Each code has a section with a YAML block (the bad query, the code, the exact span and
message it gets, the fix) followed by a `text` block with the rendered diagnostic. Tests read
the entries and check every one against `check` (Q1xx/Q2xx) or the compiler (Q3xx).

    python tests/checker/error_docs.py --write   # recompute span/message/rendering in place
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
_BLOCK = re.compile(r"```yaml\n(?P<yaml>code: .*?)```\n\n```text\n(?P<text>.*?)```", re.DOTALL)


class _Dumper(yaml.SafeDumper):
    """Block style, except lists of scalars (`span: [15, 16]`) on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def explode(x: int) -> int:
    """A host function that always fails (for the Q309 example)."""
    raise ValueError(f"cannot explode {x}")


#: Host functions the examples may register by name (`functions: [explode]`).
EXAMPLE_FUNCTIONS = {"explode": explode}


@dataclass
class Entry:
    data: dict[str, Any]
    rendered: str
    start: int  # offsets of the two blocks in the document
    end: int

    @property
    def code(self) -> str:
        return str(self.data["code"])

    @property
    def query(self) -> str:
        return str(self.data["query"])


def load_entries(text: str | None = None) -> list[Entry]:
    text = DOC.read_text(encoding="utf-8") if text is None else text
    return [
        Entry(yaml.safe_load(m.group("yaml")), m.group("text"), m.start(), m.end())
        for m in _BLOCK.finditer(text)
    ]


def schema_for(entry: Entry) -> Any:
    from segmentql.schema import Schema

    schema = Schema.default()
    if entry.data.get("schema"):
        schema = schema.extend(entry.data["schema"])
    names = entry.data.get("functions") or []
    if names:
        schema = schema.with_functions(**{n: EXAMPLE_FUNCTIONS[n] for n in names})
    return schema


def build_variables(value: Any) -> Any:
    """Variables as written, with `{$nested: N}` standing for a list nested N deep."""
    if isinstance(value, dict):
        if set(value) == {"$nested"}:
            nested: list[Any] = []
            for _ in range(int(value["$nested"])):
                nested = [nested]
            return nested
        return {k: build_variables(v) for k, v in value.items()}
    if isinstance(value, list):
        return [build_variables(v) for v in value]
    return value


def static_diagnostics(entry: Entry, query: str | None = None) -> list[Any]:
    from segmentql.checker import check

    expect = bool if entry.data.get("expect") == "boolean" else None
    return check(
        entry.query if query is None else query, schema_for(entry), expect=expect,
        max_length=int(entry.data.get("max_length", 500)),
        max_depth=int(entry.data.get("max_depth", 64)),
    )


def runtime_error(entry: Entry, query: str | None = None) -> Any:
    """The `EvaluationError` of evaluating the entry (None when it evaluates)."""
    from segmentql.compiler import compile_query
    from segmentql.errors import EvaluationError

    now = entry.data.get("now", "2024-07-31T12:00:00+00:00")
    compiled = compile_query(entry.query if query is None else query, schema_for(entry))
    try:
        compiled.evaluate(build_variables(entry.data.get("variables") or {}),
                          now=dt.datetime.fromisoformat(str(now)))
    except EvaluationError as exc:
        return exc
    return None


def find(entry: Entry) -> Any:
    """The diagnostic the entry documents (as a `Diagnostic`), or None."""
    from segmentql.codes import severity
    from segmentql.diagnostics import Diagnostic

    if entry.code.startswith("Q3"):
        exc = runtime_error(entry)
        if exc is None or exc.code != entry.code:
            return None
        return Diagnostic(exc.code, severity(exc.code), exc.message, exc.span)
    matches = [d for d in static_diagnostics(entry) if d.code == entry.code]
    wanted = entry.data.get("span")
    for d in matches:
        if wanted is None or [d.span.start, d.span.end] == list(wanted):
            return d
    return matches[0] if matches and wanted is None else None


def rewrite() -> None:
    """Refresh span, message and the rendered block of every entry from the real output."""
    from segmentql.diagnostics import render_text

    text = DOC.read_text(encoding="utf-8")
    out: list[str] = []
    last = 0
    for entry in load_entries(text):
        data = dict(entry.data)
        data.pop("span", None)
        probe = Entry(data, "", 0, 0)
        try:
            found = find(probe)
        except Exception as exc:  # the compiler may be mid-change: keep the entry as it is
            print(f"{entry.code}: {type(exc).__name__}: {exc}", file=sys.stderr)
            found = None
        if found is None:
            print(f"{entry.code}: no such diagnostic for {entry.query!r}", file=sys.stderr)
            out.append(text[last:entry.end])
            last = entry.end
            continue
        data = {**entry.data, "span": [found.span.start, found.span.end],
                "message": found.message}
        order = ["code", "query", "schema", "functions", "expect", "max_length", "max_depth",
                 "variables", "now", "span", "message", "fix"]
        data = {k: data[k] for k in order if k in data}
        block = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                          width=1000, default_flow_style=False)
        rendered = render_text(found, entry.query) + "\n"
        out.append(text[last:entry.start])
        out.append(f"```yaml\n{block}```\n\n```text\n{rendered}```")
        last = entry.end
    out.append(text[last:])
    DOC.write_text("".join(out), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        rewrite()
    else:
        print(__doc__)
