"""The Q4xx entries of docs/errors.md: each query gets exactly its code, span, message and
rendering from the SQL compiler, and each fix compiles."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checker"))

from error_docs import Entry, load_entries

from segmentql.diagnostics import render_text
from segmentql.sql import SqlCompileError, compile_sql

ENTRIES = [e for e in load_entries() if e.code.startswith("Q4")]
NOW = "2024-07-01T00:00:00Z"


def test_every_sql_code_is_documented() -> None:
    from segmentql.codes import CODES

    assert sorted(e.code for e in ENTRIES) == sorted(c for c in CODES if c.startswith("Q4"))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.code for e in ENTRIES])
def test_sql_entry(entry: Entry) -> None:
    dialect = entry.data["dialect"]
    with pytest.raises(SqlCompileError) as raised:
        compile_sql(entry.query, dialect=dialect, now=NOW)
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == entry.code
    assert [diagnostic.span.start, diagnostic.span.end] == entry.data["span"]
    assert diagnostic.message == entry.data["message"]
    assert render_text(diagnostic, entry.query) + "\n" == entry.rendered
    compile_sql(entry.data["fix"], dialect=dialect, now=NOW)
