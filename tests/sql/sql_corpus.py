"""The conformance corpus as SQL audiences: which cases compile, and their rows."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

from conformance_corpus import Case, load_all, parse_datetime

from segmentql.checker import analyze
from segmentql.schema.types import TypeKind

LAYOUT_VARIABLES = ("user", "session", "account", "events")


@dataclass(frozen=True)
class BooleanCase:
    case: Case
    query: str
    row: dict[str, Any]
    now: Any
    time_zone: str

    @property
    def id(self) -> str:
        return self.case.id


def boolean_cases() -> list[BooleanCase]:
    """Every corpus case whose query checks as a boolean audience."""
    out: list[BooleanCase] = []
    for case in load_all():
        data = case.data
        error = data.get("error")
        if error is not None and error.get("phase") == "compile":
            continue
        query = data["query"]
        analysis = analyze(query, None, expect=bool)
        if not analysis.ok or analysis.result.kind is not TypeKind.BOOLEAN:
            continue
        variables = data.get("variables") or {}
        row = {k: v for k, v in variables.items() if k.lower() in LAYOUT_VARIABLES}
        now = data.get("now")
        out.append(BooleanCase(case, query, row,
                               parse_datetime(str(now)) if now is not None else
                               parse_datetime("2024-07-01T12:00:00Z"),
                               data.get("time_zone", "UTC")))
    return out


def loadable(row: Mapping[str, Any]) -> str | None:
    """Why the layout cannot hold this row (None when it can)."""
    events = row.get("events")
    if events is not None and (not isinstance(events, list)
                               or not all(isinstance(e, Mapping) for e in events)):
        return "events is not a list of mappings"
    return None
