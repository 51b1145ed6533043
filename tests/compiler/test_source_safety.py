"""Generated source never holds a value from the query or the data.

The generator writes only numbered names (`_k3`, `_t7`, ...), fixed helper names, keywords,
punctuation and the number 1 (in `[-1]`): no string literal at all, so no query text or
profile value can ever be executed.
"""

from __future__ import annotations

import io
import keyword
import re
import sys
import tokenize
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from segmentql.compiler import compile_audiences, compile_query
from segmentql.errors import QueryError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from conformance_corpus import load_all

NAME = re.compile(r"^_[A-Za-z]+[a-z_]*\d*$")  # numbered locals/constants, helpers
#: Fixed names the generator writes: keywords, the entry points' parameters, and the
#: methods it calls on values (`d.get`, `s.startswith`, `regex.search`, `x.__class__`, ...).
ALLOWED_KEYWORDS = set(keyword.kwlist) | {
    "now", "time_zone", "Exception", "get", "run", "found", "startswith", "endswith",
    "isdisjoint",
    "__class__",
    # literal regexes (`~/@acme\.com$/i`): str methods, RE2 for non-ASCII strings
    "lower", "isascii", "re2_found",
    # explain's tracing rendering: an event expression's report and its criteria
    "events", "criterion",
}
QUERIES = sorted({str(case.data["query"]) for case in load_all()})


def assert_clean(source: str) -> None:
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING:
            raise AssertionError(f"string literal in generated source: {token.string}")
        if token.type == tokenize.NAME:
            assert token.string in ALLOWED_KEYWORDS or NAME.match(token.string), token.string
        if token.type == tokenize.NUMBER:
            assert token.string == "1", token.string
        assert token.type not in (tokenize.COMMENT,), token.string


def test_every_corpus_query_compiles_to_clean_source() -> None:
    compiled = 0
    for text in QUERIES:
        try:
            query = compile_query(text)
        except QueryError:
            continue
        assert_clean(query.source)
        compiled += 1
    assert compiled > 400


@pytest.mark.parametrize(
    "text",
    [
        'user\'s plan is "__import__(\'os\').system(\'x\')"',
        "user's _k1 is \"_k1\"",
        'user\'s name is "\\"); import os; (\\""',
        "let _t1 = 5; _t1 + 1",
        'user\'s email matches ~/^__import__\\(os\\)$/i',
    ],
)
def test_hostile_text_stays_data(text: str) -> None:
    query = compile_query(text)
    assert_clean(query.source)
    query.evaluate({"user": {"plan": "x", "_k1": "_k1"}})


def test_audience_set_source_is_clean() -> None:
    audiences = compile_audiences({"a": 'user\'s plan is "pro"', "b": "user's age > 3"})
    assert_clean(audiences.source)


@given(
    st.text(min_size=1, max_size=20),
    st.sampled_from(['user\'s plan is "{}"', 'user\'s plan matches "{}"',
                     '"{}" & user\'s name', 'user\'s tags contains either ["{}", "b"]']),
)
def test_generated_literals_never_reach_the_source(value: str, template: str) -> None:
    literal = value.replace("\\", "\\\\").replace('"', '\\"')
    try:
        query = compile_query(template.format(literal))
    except QueryError:
        return
    assert_clean(query.source)
    query.evaluate({"user": {"plan": value, "name": value}})
