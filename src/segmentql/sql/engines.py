"""PostgreSQL and Spark runners for compiled audiences (DuckDB lives in `segmentql.sql`)."""

from __future__ import annotations

from typing import Any

from segmentql.sql.layout import EVENTS, PROFILES, Rows

_PG_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PROFILES} (profile_id text PRIMARY KEY, user_id text, "
    "user_data jsonb, session_data jsonb, account_data jsonb, updated_at timestamptz)",
    f"CREATE TABLE IF NOT EXISTS {EVENTS} (profile_id text, seq bigint, type text, "
    '"timestamp" timestamptz, event jsonb)',
    f"CREATE INDEX IF NOT EXISTS {EVENTS}_profile ON {EVENTS} (profile_id, type)",
)


def postgres_load(url: str, rows: Rows) -> None:
    """Create the layout's two tables (if absent) and insert the rows (tests, small loads)."""
    import psycopg

    from segmentql.sql import SqlEngineError

    p, e = rows.profiles, rows.events
    try:
        with psycopg.connect(url, connect_timeout=10) as con, con.cursor() as cur:
            for ddl in _PG_DDL:
                cur.execute(ddl)
            cur.executemany(
                f"INSERT INTO {PROFILES} VALUES (%s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s)",
                list(zip(p["profile_id"], p["user_id"], p["user_data"], p["session_data"],
                         p["account_data"], p["updated_at"], strict=True)))
            cur.executemany(
                f"INSERT INTO {EVENTS} VALUES (%s, %s, %s, %s, %s::jsonb)",
                list(zip(e["profile_id"], e["seq"], e["type"], e["timestamp"], e["event"],
                         strict=True)))
    except psycopg.Error as exc:
        raise SqlEngineError(f"PostgreSQL failed to load the layout: {exc}") from None


def postgres_run(url: str, audiences: Any, *, order: bool = True) -> list[tuple[Any, ...]]:
    import psycopg

    from segmentql.sql import SqlEngineError

    sql = audiences.sql(pretty=False) + (" ORDER BY 1" if order else "")
    try:
        with psycopg.connect(url, connect_timeout=10) as con, con.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute(sql)
            return list(cur.fetchall())
    except psycopg.Error as exc:
        raise SqlEngineError(f"PostgreSQL failed: {exc}") from None


def local_spark(app_name: str, cores: str = "*") -> Any:
    """A local-mode SparkSession with the settings docs/sql.md gives (a lean JVM, no UI, UTC,
    loopback only). Raises ImportError without pyspark."""
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_views(spark: Any, directory: str) -> None:
    """Temp views `segmentql_profiles`/`segmentql_events` over a Parquet layout directory,
    JSON columns parsed to VARIANT."""
    profiles = spark.read.parquet(f"{directory}/profiles.parquet")
    profiles.createOrReplaceTempView("_segmentql_profiles_raw")
    spark.sql(
        f"CREATE OR REPLACE TEMP VIEW {PROFILES} AS SELECT profile_id, user_id, "
        "try_parse_json(user_data) AS user_data, try_parse_json(session_data) AS session_data, "
        "try_parse_json(account_data) AS account_data, updated_at FROM _segmentql_profiles_raw")
    events = spark.read.parquet(f"{directory}/events.parquet")
    events.createOrReplaceTempView("_segmentql_events_raw")
    spark.sql(
        f"CREATE OR REPLACE TEMP VIEW {EVENTS} AS SELECT profile_id, seq, type, timestamp, "
        "try_parse_json(event) AS event FROM _segmentql_events_raw")


def spark_run(spark: Any, audiences: Any) -> list[tuple[Any, ...]]:
    from segmentql.sql import SqlEngineError

    try:
        result = spark.sql(audiences.sql(pretty=False) + " ORDER BY 1").collect()
    except Exception as exc:  # py4j/pyspark errors have no common public base class
        raise SqlEngineError(f"Spark failed: {str(exc).splitlines()[0]}") from None
    return [tuple(row) for row in result]
