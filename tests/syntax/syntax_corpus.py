"""Loading the grammar corpus (grammar/corpus): valid queries, golden ASTs, invalid queries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).resolve().parents[2] / "grammar" / "corpus"


@dataclass(frozen=True)
class Valid:
    file: str
    query: str
    ast: dict[str, Any] | None


@dataclass(frozen=True)
class Invalid:
    query: str
    code: str
    start: int
    end: int


def valid_queries() -> list[Valid]:
    out: list[Valid] = []
    for path in sorted((CORPUS / "valid").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append(Valid(path.name, entry["query"], entry.get("ast")))
    return out


def invalid_queries() -> list[Invalid]:
    out: list[Invalid] = []
    for entry in yaml.safe_load((CORPUS / "invalid.yaml").read_text(encoding="utf-8")):
        if "parts" in entry:
            query = "".join(text * times for text, times in entry["parts"])
        else:
            query = entry["query"]
        out.append(Invalid(query, entry["code"], entry["start"], entry["end"]))
    return out


def label(query: str) -> str:
    return query if len(query) <= 60 else query[:57] + "..."
