"""A sample of the corpus through PostgreSQL over the layout's relations (jsonb), against the
evaluator; the rows are loaded through the same layout the store keeps."""

from __future__ import annotations

import pytest
from sql_corpus import boolean_cases, loadable

import segmentql
from segmentql.sql import SqlCompileError, compile_sql, matches_many

pytestmark = pytest.mark.postgres


def _sample() -> list:  # type: ignore[type-arg]
    out = []
    for case in boolean_cases():
        if loadable(case.row) is not None or not case.row:
            continue
        try:
            compile_sql(case.query, dialect="postgres", now=case.now, time_zone=case.time_zone)
        except SqlCompileError:
            continue
        out.append(case)
    return out[::4]


def test_postgres_agrees_with_the_evaluator_on_a_corpus_sample(postgres_url: str) -> None:
    import psycopg

    cases = _sample()
    assert len(cases) > 50
    mismatches = []
    for case in cases:
        with psycopg.connect(postgres_url) as con:
            con.execute("DROP TABLE IF EXISTS segmentql_profiles, segmentql_events")
        variables = case.case.data.get("variables") or {}
        expected = segmentql.compile(case.query).matches(variables, now=case.now,
                                                         time_zone=case.time_zone)
        [got] = matches_many(case.query, [case.row], engine="postgres", now=case.now,
                             time_zone=case.time_zone, postgres_url=postgres_url)
        if got is not expected:
            mismatches.append((case.id, expected, got))
    assert mismatches == []


def test_postgres_runs_an_audience_set_in_one_select(postgres_url: str) -> None:
    rows = [{"user": {"plan": "pro", "tags": ["a"]}}, {"user": {"custom": {"Plan": "pro"}}},
            {"user": {"plan": "free"}}, {}]
    for query in ('user\'s plan is "pro"', 'user\'s tags contains "a"',
                  'not (user\'s plan is "free")'):
        expected = [segmentql.compile(query).matches(r, now="2024-07-01T00:00:00Z")
                    for r in rows]
        with __import__("psycopg").connect(postgres_url) as con:
            con.execute("DROP TABLE IF EXISTS segmentql_profiles, segmentql_events")
        got = matches_many(query, rows, engine="postgres", now="2024-07-01T00:00:00Z",
                           postgres_url=postgres_url)
        assert got == expected, query
