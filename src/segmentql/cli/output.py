"""How `segmentql check` prints findings: `text` (colour on a terminal), `json`, `github`
(workflow commands that annotate a pull request) and `sarif` (SARIF 2.1.0, for code scanning).

Colour follows the terminal: on when standard output is a terminal, off when it is not, off
when `NO_COLOR` is set and on when `FORCE_COLOR` is set (rich decides, by those rules).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from segmentql.lint import Finding

OUTPUT_FORMATS = ("text", "json", "github", "sarif")

_STYLES = (
    (re.compile(r"^error\[[^\]]*\]:?"), "bold red"),
    (re.compile(r"^warning\[[^\]]*\]:?"), "bold yellow"),
    (re.compile(r"^info\[[^\]]*\]:?"), "bold cyan"),
    (re.compile(r"^\s*-->"), "bold blue"),
    (re.compile(r"^\s*\d*\s*\|"), "bold blue"),
    (re.compile(r"\^+\s*$"), "bold red"),
    (re.compile(r"^\s*= help:"), "bold green"),
    (re.compile(r"^\s*= note:"), "bold"),
)


def write_text(text: str, stream: IO[str] | None = None) -> None:
    """Write rendered diagnostics, coloured when the stream is a terminal (see above)."""
    from rich.console import Console
    from rich.text import Text

    stream = stream if stream is not None else sys.stdout
    console = Console(file=stream, highlight=False, soft_wrap=True, emoji=False, markup=False)
    if not console.is_terminal or console.no_color or console.color_system is None:
        stream.write(text if text.endswith("\n") else text + "\n")
        return
    for line in text.split("\n"):
        styled = Text(line)
        for pattern, style in _STYLES:
            for match in pattern.finditer(line):
                styled.stylize(style, match.start(), match.end())
        console.print(styled)


def github(findings: Sequence[Finding]) -> str:
    """One GitHub Actions workflow command per finding (`::error file=...::message`)."""
    lines = []
    for finding in findings:
        d = finding.diagnostic
        level = {"error": "error", "warning": "warning"}.get(d.severity.value, "notice")
        props = []
        if finding.file != "<query>":
            props.append(f"file={_property(finding.file)}")
        props += [f"line={d.span.line}", f"col={d.span.column}",
                  f"endLine={d.span.end_line}", f"endColumn={d.span.end_column}",
                  f"title={_property(d.code)}"]
        message = d.message + (f" (help: {d.help})" if d.help else "")
        lines.append(f"::{level} {','.join(props)}::{_data(message)}")
    return "\n".join(lines)


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def sarif(findings: Sequence[Finding], *, version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: the rules met and one result per finding."""
    from segmentql.codes import CODES

    rule_ids = sorted({f.diagnostic.code for f in findings})
    rules = []
    for code in rule_ids:
        info = CODES.get(code)
        rules.append({
            "id": code,
            "shortDescription": {"text": info.title if info else code},
            "help": {"text": f"See {code} in docs/errors.md."},
        })
    results = []
    for finding in findings:
        d = finding.diagnostic
        message = d.message + (f" (help: {d.help})" if d.help else "")
        region = {"startLine": d.span.line, "startColumn": d.span.column,
                  "endLine": d.span.end_line, "endColumn": d.span.end_column}
        location: dict[str, Any] = {"physicalLocation": {
            "artifactLocation": {"uri": finding.file}, "region": region,
        }}
        results.append({
            "ruleId": d.code,
            "ruleIndex": rule_ids.index(d.code),
            "level": {"error": "error", "warning": "warning"}.get(d.severity.value, "note"),
            "message": {"text": message},
            "locations": [location],
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "segmentql", "version": version, "rules": rules}},
            "results": results,
        }],
    }


def dump_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
