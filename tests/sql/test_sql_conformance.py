"""Differential: every corpus case whose query compiles to SQL gives, through DuckDB over the
documented layout, exactly the evaluator's `matches` answer; at least 80% compile.

Cases sharing a clock run as one audience set over one layout (each case's row is read from
its own audience's column), which is also how audiences run in production: one SELECT."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from sql_corpus import BooleanCase, boolean_cases, loadable

import segmentql
from segmentql.sql import (
    SqlCompileError,
    compile_sql,
    duckdb_connection,
    matches_many,
    run_in_duckdb,
)
from segmentql.sql.layout import Rows

CASES = boolean_cases()


def _compiles(case: BooleanCase) -> bool:
    try:
        compile_sql(case.query, now=case.now, time_zone=case.time_zone)
    except SqlCompileError as exc:
        assert all(d.code.startswith("Q4") for d in exc.diagnostics), exc
        return False
    return True


@cache
def _group_results(now: Any, zone: str) -> dict[str, bool]:
    """Every compiling, loadable case of this clock in one SELECT: case id -> matched."""
    cases = [c for c in CASES if (c.now, c.time_zone) == (now, zone)
             and loadable(c.row) is None and _compiles(c)]
    rows = Rows()
    for number, case in enumerate(cases):
        rows.add(f"{number:06d}", case.row)
    rows.shredded_columns()
    rows.shredded_columns(events=True)
    audiences = compile_sql({f"c{n}": c.query for n, c in enumerate(cases)}, now=now,
                            time_zone=zone, stats=rows.layout_stats())
    result = run_in_duckdb(audiences, duckdb_connection(rows=rows))
    return {case.id: bool(result[n][n + 1]) for n, case in enumerate(cases)}


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
    assert _group_results(case.now, case.time_zone)[case.id] is expected


def test_matches_many_one_case_at_a_time_agrees_on_a_sample() -> None:
    """`matches_many` itself (its own layout per call), on every tenth compiling case."""
    sample = [c for c in CASES if loadable(c.row) is None and _compiles(c)][::10]
    for case in sample:
        variables = case.case.data.get("variables") or {}
        expected = segmentql.compile(case.query).matches(variables, now=case.now,
                                                         time_zone=case.time_zone)
        [got] = matches_many(case.query, [case.row], now=case.now, time_zone=case.time_zone)
        assert got is expected, case.id
