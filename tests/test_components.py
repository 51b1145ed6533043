"""The real components the suite starts itself work on this machine."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.postgres
def test_postgres_fixture_gives_a_fresh_database(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE t (x integer)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
        assert conn.execute("SELECT sum(x) FROM t").fetchone() == (3,)
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (1,)


@pytest.mark.spark
def test_spark_fixture_runs_sql_in_utc(spark: Any) -> None:
    row = spark.sql("SELECT 40 + 2 AS answer, current_timezone() AS tz").collect()[0]
    assert (row["answer"], row["tz"]) == (42, "UTC")
