"""The operator table agrees with run time: whatever the evaluator runs without an error on
sample values of every type, the checker accepts (no false errors).

Deliberate exception: `and`/`or` with a non-boolean operand is an error for the checker even
though `true or 2` evaluates (the error value is absorbed by the short-circuit).
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest

from segmentql.checker import check

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("segmentql.compiler") is None,
    reason="segmentql.compiler (helper C) is not there yet",
)

NOW = dt.datetime(2024, 7, 31, 12, tzinfo=dt.UTC)
SAMPLES = {
    "null": "null", "boolean": "true", "integer": "2", "decimal": "1.5", "float": "2.5e0",
    "string": '"a"', "iso-date": '"2024-01-01"', "date": "today",
    "time": '("12:00" as time)', "datetime": "now", "duration": "(1 day)", "list": "[1]",
    "map": '["a": 1]', "regex": "~/a/",
}
BINARY = ["+", "-", "*", "/", "mod", "**", "&", "??", "<", ">=", "==", "!=", ".."]
TESTS = [
    "is equal to", "is greater than", "is at most", "is before", "is after", "starts with",
    "ends with", "matches", "is like", "contains", "is in", "contains all of",
    "contains either", "contains none of", "is at",
]
UNARY = [
    "not {a}", "-{a}", "+{a}", "{a}%", "count of {a}", "sum of {a}", "average of {a}",
    "minimum of {a}", "first of {a}", "keys of {a}", "values of {a}", "{a} in lower case",
    "{a} rounded", "{a} without duplicates", "{a} sorted", '{a} at "12:00"', "{a} is empty",
    "{a} as boolean", "{a} as string", "{a} as number", "{a} as integer", "{a} as decimal",
    "{a} as collection", "{a} as date", "{a} as time", "{a} as datetime",
    "number of days between {a} and today", "every x in {a} satisfies true", "{a}[0]",
    "{a}'s x",
]


def _queries() -> list[str]:
    out = [f"{a} {op} {b}" for op in BINARY + TESTS for a in SAMPLES.values()
           for b in SAMPLES.values()]
    out += [form.format(a=a) for form in UNARY for a in SAMPLES.values()]
    return out


def _runs_cleanly(text: str) -> bool:
    from segmentql.compiler.query import compile_ast
    from segmentql.errors import EvaluationError, QueryError
    from segmentql.syntax.parser import parse_with_diagnostics

    parsed = parse_with_diagnostics(text)
    if parsed.ast is None or any(d.is_error for d in parsed.diagnostics):
        return False
    try:
        compile_ast(parsed.ast, text).evaluate({}, now=NOW)
    except (EvaluationError, QueryError):
        return False
    return True


def test_no_false_errors_on_sample_values() -> None:
    false_errors = []
    for text in _queries():
        if _runs_cleanly(text):
            errors = [d.code for d in check(text) if d.is_error]
            if errors:
                false_errors.append((text, errors))
    assert false_errors == []
