"""Which diagnostics a run reports: code selection (as in ruff) and suppression comments.

A suppression comment names codes on the line where a finding starts:

    user's emial is "x"   // segmentql: ignore[Q202]          (a .segmentql file or a query)
    vip: user's emial is "x"   # segmentql: ignore[Q202]       (a YAML audience file)

`segmentql: ignore` without a list silences every code on that line. In a YAML audience file
a comment on the line of an audience's name covers the whole query, however many lines it
spans. The comment is a query comment (`//` or `/* */`) in queries and a YAML comment (`#`)
in YAML files; the directive is the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from segmentql.config import LintConfig
from segmentql.diagnostics import Diagnostic, Severity

#: `segmentql: ignore` or `segmentql: ignore[Q202, Q2]` after `//`, `/*` or `#`.
DIRECTIVE = re.compile(
    r"(?://|/\*|#)\s*segmentql:\s*ignore\b(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE
)

#: Every code on a line (`None`) or these codes/prefixes.
LineRule = frozenset[str] | None


def suppressions(text: str) -> dict[int, LineRule]:
    """Suppression directives by 1-based line number."""
    found: dict[int, LineRule] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        for match in DIRECTIVE.finditer(line):
            codes = match.group("codes")
            if codes is None or not codes.strip():
                found[number] = None
                continue
            wanted = frozenset(c.strip().upper() for c in codes.split(",") if c.strip())
            previous = found.get(number, frozenset())
            if previous is not None:
                found[number] = previous | wanted
    return found


def _covers(rule: LineRule, code: str) -> bool:
    return rule is None or any(code.startswith(prefix) for prefix in rule)


def covered(rules: Mapping[int, LineRule], code: str, lines: Iterable[int]) -> bool:
    """Whether a directive on one of `lines` silences `code`."""
    return any(line in rules and _covers(rules[line], code) for line in lines)


def audience_name_lines(text: str) -> dict[str, int]:
    """The 1-based line of each audience name in a YAML/JSON audience file (top level or under
    `audiences:`); empty when the file does not parse."""
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    pairs = root.value
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "audiences":
            pairs = value.value if isinstance(value, yaml.MappingNode) else []
    return {str(key.value): key.start_mark.line + 1 for key, _ in pairs
            if isinstance(key, yaml.ScalarNode)}


@dataclass(frozen=True, slots=True)
class Finding:
    """A diagnostic placed in a file (its span in file coordinates), with the query it is in."""

    diagnostic: Diagnostic
    #: The file name shown (`<query>` for a query given on the command line).
    file: str
    #: The name of the audience (or `line N`) the query is, or None for a whole-file query.
    query_name: str | None = None
    #: The line of the audience's name in a YAML file: a directive there covers the query.
    name_line: int | None = None


def keep(findings: Iterable[Finding], lint: LintConfig,
         directives: Mapping[str, Mapping[int, LineRule]]) -> list[Finding]:
    """The findings `lint` selects and no suppression comment silences.

    `directives` maps a file name to `suppressions()` of its text."""
    kept: list[Finding] = []
    for finding in findings:
        code = finding.diagnostic.code
        if not lint.enabled(code):
            continue
        lines = [finding.diagnostic.span.line]
        if finding.name_line is not None:
            lines.append(finding.name_line)
        if covered(directives.get(finding.file, {}), code, lines):
            continue
        kept.append(finding)
    return kept


def fails(findings: Iterable[Finding], lint: LintConfig) -> bool:
    """Whether the findings make the run fail: any error, or any warning when strict."""
    for finding in findings:
        severity = finding.diagnostic.severity
        if severity is Severity.ERROR or (lint.strict and severity is Severity.WARNING):
            return True
    return False
