"""The parser's valid corpus and the conformance corpus: no false errors from the checker."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from segmentql.checker import check
from segmentql.schema import Schema

ROOT = Path(__file__).resolve().parents[2]
VALID = sorted((ROOT / "grammar" / "corpus" / "valid").glob("*.yaml"))
CONFORMANCE = ROOT / "tests" / "conformance"


def _any(*args: Any) -> Any:
    """A host function of the corpus examples (`f(1)`, `g(x)`): anything goes."""
    return None


CORPUS_SCHEMA = Schema.load(Path(__file__).parent / "corpus_schema.yaml").with_functions(
    f=_any, g=_any
)

#: Corpus queries that are valid syntax but wrong for the schema; the checker is right.
KNOWN: dict[str, tuple[str, str]] = {
    "price(100, 10%)": ("Q210", "`price` is a variable of the test schema, not a function"),
    "user has viewed a page with rating 5, title 'x' at least 2 times today": (
        "Q217", "pageOpened events have url, title and referrer only (spec §6)"),
    "count of count of x": ("Q221", "a count is an integer, not a collection"),
    "every item in cart's items in lower case satisfies item is 'a'": (
        "Q204", "a list has no case"),
}


def _valid_queries() -> Iterator[Any]:
    for path in VALID:
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            yield pytest.param(entry["query"], id=f"{path.stem}:{entry['query'][:40]}")


@pytest.mark.skipif(not VALID, reason="grammar/corpus/valid is not there yet")
@pytest.mark.parametrize("query", list(_valid_queries()))
def test_valid_corpus_has_no_false_errors(query: str) -> None:
    errors = [(d.code, d.message) for d in check(query, CORPUS_SCHEMA) if d.is_error]
    if query in KNOWN:
        assert [code for code, _ in errors] == [KNOWN[query][0]]
    else:
        assert errors == []


def _conformance_cases() -> list[Any]:
    if not (CONFORMANCE / "conformance_corpus.py").exists():
        return []
    sys.path.insert(0, str(CONFORMANCE))
    try:
        from conformance_corpus import CASES_DIR, load_file
    finally:
        sys.path.remove(str(CONFORMANCE))
    return [case for path in sorted(CASES_DIR.glob("*.yaml")) for case in load_file(path)]


CASES = _conformance_cases()
@pytest.mark.skipif(not CASES, reason="the conformance corpus is not there")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance_cases(case: Any) -> None:
    """Cases that evaluate have no checker error; compile-time Q2xx errors are found."""
    data = case.data
    expect = bool if data.get("expect") == "boolean" else None
    found = check(data["query"], Schema.default(), expect=expect)
    error = data.get("error")
    if error is None:
        assert [(d.code, d.message) for d in found if d.is_error] == []
    elif error.get("phase") == "compile" and str(error.get("code", "")).startswith("Q2"):
        assert error["code"] in [d.code for d in found]
