"""A sample of the corpus through Spark (local mode) over the Parquet layout, against the
evaluator. Cases sharing a clock run as one audience set in one query (Spark's per-query
cost is about a second), each audience read on its own case's row."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sql_corpus import BooleanCase, boolean_cases, loadable

import segmentql
from segmentql.sql import SqlCompileError, compile_sql, matches_many
from segmentql.sql.engines import spark_run, spark_views
from segmentql.sql.layout import Rows, write_parquet

pytestmark = pytest.mark.spark


def _sample() -> dict[tuple[Any, str, int], list[BooleanCase]]:
    groups: dict[tuple[Any, str], list[BooleanCase]] = defaultdict(list)
    for case in boolean_cases():
        if loadable(case.row) is not None:
            continue
        try:
            compile_sql(case.query, dialect="spark", now=case.now, time_zone=case.time_zone)
        except SqlCompileError:
            continue
        groups[(case.now, case.time_zone)].append(case)
    # The two largest clocks, every eighth case, in sets of at most 40 audiences.
    largest = sorted(groups.items(), key=lambda item: -len(item[1]))[:2]
    chunks: dict[tuple[Any, str, int], list[BooleanCase]] = {}
    for (now, zone), cases in largest:
        sample = cases[::8]
        for start in range(0, len(sample), 40):
            chunks[(now, zone, start)] = sample[start:start + 40]
    return chunks


def test_spark_agrees_with_the_evaluator_on_a_corpus_sample(spark: Any,
                                                             tmp_path: Path) -> None:
    groups = _sample()
    total = sum(len(cases) for cases in groups.values())
    assert total > 60
    mismatches = []
    for index, ((now, zone, _), cases) in enumerate(groups.items()):
        rows = Rows()
        for number, case in enumerate(cases):
            rows.add(f"{number:06d}", case.row)
        directory = tmp_path / f"g{index}"
        write_parquet(rows, directory)
        spark_views(spark, str(directory))
        audiences = compile_sql({f"c{n}": c.query for n, c in enumerate(cases)},
                                dialect="spark", now=now, time_zone=zone)
        result = spark_run(spark, audiences)
        for number, case in enumerate(cases):
            variables = case.case.data.get("variables") or {}
            expected = segmentql.compile(case.query).matches(variables, now=now,
                                                             time_zone=zone)
            got = bool(result[number][number + 1])
            if got is not expected:
                mismatches.append((case.id, expected, got))
    assert mismatches == []


def test_matches_many_on_spark(spark: Any) -> None:
    rows = [{"user": {"plan": "pro", "tags": ["a"]}}, {"user": {"custom": {"Plan": "pro"}}},
            {"user": {"plan": "free"}}, {}]
    query = 'user\'s plan is "pro" and not (user\'s tags contains "b")'
    expected = [segmentql.compile(query).matches(r) for r in rows]
    assert matches_many(query, rows, engine="spark", spark=spark) == expected
