"""docs/errors.md: one entry per code, each checked against the real diagnostic."""

from __future__ import annotations

import importlib.util
import re

import pytest

from segmentql.codes import CODES
from segmentql.diagnostics import render_text

from .error_docs import DOC, Entry, find, load_entries, runtime_error, static_diagnostics

ENTRIES = load_entries()
STATIC = [e for e in ENTRIES if not e.code.startswith(("Q3", "Q4"))]  # Q4xx: tests/sql
RUNTIME = [e for e in ENTRIES if e.code.startswith("Q3")]
HAS_COMPILER = importlib.util.find_spec("segmentql.compiler") is not None


def _id(entry: Entry) -> str:
    return f"{entry.code}-{entry.query[:30]}"


def test_every_code_has_an_entry_and_a_section() -> None:
    documented = {e.code for e in ENTRIES}
    assert set(CODES) - documented == set()
    assert documented - set(CODES) == set()
    headings = re.findall(r"^## (Q\d{3}): (.*)$", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert [code for code, _ in headings] == sorted(CODES)
    for code, title in headings:
        assert title == CODES[code].title


@pytest.mark.parametrize("entry", STATIC, ids=_id)
def test_static_entry(entry: Entry) -> None:
    found = find(entry)
    assert found is not None, (
        f"{entry.query!r} gives no {entry.code} at {entry.data.get('span')}: "
        f"{[(d.code, d.span.start, d.span.end) for d in static_diagnostics(entry)]}"
    )
    assert [found.span.start, found.span.end] == entry.data["span"]
    assert found.severity is CODES[entry.code].severity
    if entry.code.startswith("Q2"):
        # The checker's own wording; parser messages (Q1xx) are the parser's to change.
        # After a deliberate change: python tests/checker/error_docs.py --write
        assert found.message == entry.data["message"]
        assert render_text(found, entry.query) + "\n" == entry.rendered
    fixed = static_diagnostics(entry, entry.data["fix"])
    assert [d for d in fixed if d.is_error or d.code == entry.code] == []


@pytest.mark.skipif(not HAS_COMPILER, reason="segmentql.compiler (helper C) is not there yet")
@pytest.mark.parametrize("entry", RUNTIME, ids=_id)
def test_runtime_entry(entry: Entry) -> None:
    from segmentql.errors import EvaluationError

    error = runtime_error(entry)
    assert isinstance(error, EvaluationError), f"{entry.query!r} evaluated without an error"
    assert error.code == entry.code
    assert [error.span.start, error.span.end] == entry.data["span"]
    assert runtime_error(entry, entry.data["fix"]) is None
