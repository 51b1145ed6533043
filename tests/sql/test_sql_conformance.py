"""Differential: every corpus case whose query compiles to SQL gives, through DuckDB over the
documented layout, exactly the evaluator's `matches` answer; at least 80% compile."""

from __future__ import annotations

import pytest
from sql_corpus import BooleanCase, boolean_cases, loadable

import segmentql
from segmentql.sql import SqlCompileError, compile_sql, matches_many

CASES = boolean_cases()


def _compiles(case: BooleanCase) -> bool:
    try:
        compile_sql(case.query, now=case.now, time_zone=case.time_zone)
    except SqlCompileError as exc:
        assert all(d.code.startswith("Q4") for d in exc.diagnostics), exc
        return False
    return True


def test_at_least_80_percent_of_boolean_queries_compile() -> None:
    compiled = sum(_compiles(c) for c in CASES)
    ratio = compiled / len(CASES)
    print(f"\n{compiled} of {len(CASES)} boolean corpus queries compile to SQL ({ratio:.1%})")
    assert len(CASES) > 500
    assert ratio >= 0.80, f"only {compiled}/{len(CASES)} ({ratio:.1%}) compile"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_duckdb_agrees_with_the_evaluator(case: BooleanCase) -> None:
    if not _compiles(case):
        return  # diagnosed (Q4xx), counted by the ratio test
    why = loadable(case.row)
    if why is not None:
        pytest.skip(f"the layout cannot hold this row: {why}")
    variables = case.case.data.get("variables") or {}
    expected = segmentql.compile(case.query).matches(variables, now=case.now,
                                                     time_zone=case.time_zone)
    [got] = matches_many(case.query, [case.row], now=case.now, time_zone=case.time_zone)
    assert got is expected
