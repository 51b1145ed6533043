"""Batch audiences: queries compiled to SQL (sqlglot trees) and run where the data lives.

    compile_sql(queries, *, dialect="duckdb", now=None, time_zone="UTC") -> SqlAudiences
    matches_many(query, rows, *, engine="duckdb", schema=None, now=None, time_zone="UTC")
    run_audiences(audiences, source, *, engine="duckdb", now=None, time_zone="UTC")

Audiences compile to one SELECT over `segmentql_profiles` with one boolean column per
audience (TRUE exactly when the evaluator's `matches` is True). A construct that cannot be
compiled faithfully for the dialect raises `SqlCompileError` (a `QueryError`) whose
diagnostics carry a Q4xx code and the construct's span. See docs/sql.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot.expressions as exp

from segmentql.diagnostics import Diagnostic, Severity
from segmentql.errors import QueryError, SegmentqlError
from segmentql.sql.compiler import Compiler, Hoist, Unsupported
from segmentql.sql.dialects import DIALECTS, Dialect, dialect, eq
from segmentql.sql.layout import (
    EVENTS,
    PROFILES,
    LayoutError,
    LayoutStats,
    Rows,
    read_stats,
    rows_of,
)

__all__ = [
    "DIALECTS",
    "LayoutError",
    "SqlAudiences",
    "SqlCompileError",
    "SqlEngineError",
    "compile_sql",
    "matches_many",
    "run_audiences",
]

ENGINES = ("duckdb", "postgres", "spark")
#: Dialects whose SQL is generated and checked in as golden files, not executed here.
GOLDEN = ("trino", "bigquery", "snowflake")


class SqlCompileError(QueryError):
    """A query that cannot be compiled to SQL for the dialect (Q4xx diagnostics)."""


class SqlEngineError(SegmentqlError):
    """The engine failed to run the SQL, or a data source is not usable."""


@dataclass(frozen=True)
class SqlAudiences:
    """Named audiences compiled for one dialect at one clock."""

    names: tuple[str, ...]
    select: exp.Select
    dialect: Dialect

    def sql(self, *, pretty: bool = True) -> str:
        return self.select.sql(dialect=self.dialect.sqlglot, pretty=pretty)


def _clock(now: dt.datetime | str | None, time_zone: str) -> tuple[dt.datetime, dt.tzinfo]:
    from segmentql.compiler.query import resolve_clock

    return resolve_clock(now, time_zone)


def column_name(name: str) -> str:
    """A safe column name for an audience name."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "audience"
    return cleaned if not cleaned[0].isdigit() else f"a_{cleaned}"


def compile_sql(
    queries: str | Mapping[str, str],
    *,
    dialect: str | Dialect = "duckdb",
    schema: Any = None,
    now: dt.datetime | str | None = None,
    time_zone: str = "UTC",
    stats: LayoutStats | None = None,
) -> SqlAudiences:
    """One SELECT with a `profile_id` column and one boolean column per audience.

    A single query text is the audience `matches`. `stats` (the data set's layout
    statistics, DuckDB over the Parquet form only) lets reads use the typed columns. Raises `QueryError` for a query that does
    not check, `SqlCompileError` (Q4xx) for one that cannot be compiled faithfully.
    """
    from segmentql.compiler.query import analyze_query

    target = dialect if isinstance(dialect, Dialect) else globals()["dialect"](dialect)
    audiences = {"matches": queries} if isinstance(queries, str) else dict(queries)
    instant, tz = _clock(now, time_zone)
    functions = getattr(schema, "functions", None) if schema is not None else None
    columns: list[exp.Expression] = [exp.column("profile_id", table="p")]
    names: list[str] = []
    used: set[str] = set()
    hoist = Hoist()
    for name, text in audiences.items():
        ast, _ = analyze_query(text, schema, bool)
        compiler = Compiler(target, instant, tz, time_zone, functions, hoist, stats)
        try:
            expression = compiler.audience(ast)  # type: ignore[arg-type]
        except Unsupported as exc:
            diagnostic = Diagnostic(exc.code, Severity.ERROR, exc.message, exc.node.span)
            raise SqlCompileError([diagnostic], text) from None
        except RecursionError:
            diagnostic = Diagnostic("Q400", Severity.ERROR, "query nested too deeply for SQL",
                                    ast.span)
            raise SqlCompileError([diagnostic], text) from None
        column = column_name(name)
        while column in used:
            column += "_"
        used.add(column)
        names.append(column)
        columns.append(exp.Alias(this=expression, alias=exp.to_identifier(column, quoted=True)))
    base: exp.Expression = exp.Table(this=exp.to_identifier(PROFILES),
                                     alias=exp.TableAlias(this=exp.to_identifier("p")))
    if hoist.columns:
        inner = exp.select(exp.column("profile_id", table="p"),
                           *(exp.column(c, table="p") for c in ("user_data", "session_data",
                                                                "account_data")),
                           *(exp.alias_(e, alias) for alias, e in hoist.columns.values()))
        base = exp.Subquery(this=inner.from_(base), alias=exp.TableAlias(
            this=exp.to_identifier("p")))
    select = exp.select(*columns).from_(base)
    for alias, query in hoist.events.values():
        select = select.join(
            exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias))),
            on=eq(exp.column("profile_id", table=alias), exp.column("profile_id", table="p")),
            join_type="LEFT")
    return SqlAudiences(tuple(names), select, target)


# --- engines ----------------------------------------------------------------------------


def duckdb_connection(parquet: Path | None = None, rows: Rows | None = None) -> Any:
    """A DuckDB connection with the two relations as views (JSON columns typed JSON)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if parquet is not None:
        from segmentql.sql.layout import check_directory

        profiles_path, events_path = check_directory(parquet)
        profiles_src = f"read_parquet('{_sql_text(str(profiles_path))}')"
        events_src = f"read_parquet('{_sql_text(str(events_path))}')"
    else:
        assert rows is not None
        profiles_arrow, events_arrow = rows.arrow()
        con.register("_profiles_arrow", profiles_arrow)
        con.register("_events_arrow", events_arrow)
        profiles_src, events_src = "_profiles_arrow", "_events_arrow"
    con.execute(
        f"CREATE VIEW {PROFILES} AS SELECT * REPLACE (CAST(user_data AS JSON) AS user_data, "
        "CAST(session_data AS JSON) AS session_data, "
        f"CAST(account_data AS JSON) AS account_data) FROM {profiles_src}")
    con.execute(
        f"CREATE VIEW {EVENTS} AS SELECT * REPLACE (CAST(event AS JSON) AS event) "
        f"FROM {events_src}")
    return con


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def run_in_duckdb(audiences: SqlAudiences, con: Any) -> list[tuple[Any, ...]]:
    """Run compiled audiences on a connection from `duckdb_connection` (rows by profile id)."""
    try:
        return _run_duckdb(audiences, con, order=True)
    finally:
        con.close()


def _run_duckdb(audiences: SqlAudiences, con: Any, order: bool) -> list[tuple[Any, ...]]:
    import duckdb

    sql = audiences.sql(pretty=False)
    if order:
        sql += " ORDER BY 1"
    try:
        return list(con.execute(sql).fetchall())
    except duckdb.Error as exc:
        raise SqlEngineError(f"DuckDB failed: {exc}") from None


def matches_many(
    query: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    engine: str = "duckdb",
    schema: Any = None,
    now: dt.datetime | str | None = None,
    time_zone: str = "UTC",
    postgres_url: str | None = None,
    spark: Any = None,
) -> list[bool]:
    """`Query.matches` for every row, computed by the engine: the rows (variable mappings)
    are loaded through the documented layout and the compiled audience runs over them."""
    if now is None:
        now = dt.datetime.now(dt.UTC)
    layout = rows_of(rows)
    target = "postgres" if engine == "postgres" else engine
    stats = None
    if engine == "duckdb":
        layout.shredded_columns()
        layout.shredded_columns(events=True)
        stats = layout.layout_stats()
    audiences = compile_sql(query, dialect=target, schema=schema, now=now,
                            time_zone=time_zone, stats=stats)
    if engine == "duckdb":
        con = duckdb_connection(rows=layout)
        try:
            result = _run_duckdb(audiences, con, order=True)
        finally:
            con.close()
    elif engine == "postgres":
        if postgres_url is None:
            raise SqlEngineError("engine 'postgres' needs postgres_url")
        from segmentql.sql.engines import postgres_load, postgres_run

        postgres_load(postgres_url, layout)
        result = postgres_run(postgres_url, audiences, order=True)
    elif engine == "spark":
        if spark is None:
            raise SqlEngineError("engine 'spark' needs a SparkSession (spark=...)")
        import tempfile

        from segmentql.sql.engines import spark_run, spark_views
        from segmentql.sql.layout import write_parquet

        with tempfile.TemporaryDirectory(prefix="segmentql_spark_") as tmp:
            write_parquet(layout, Path(tmp))
            spark_views(spark, tmp)
            result = spark_run(spark, audiences)
    else:
        raise SqlEngineError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    by_id = {row[0]: bool(row[1]) for row in result}
    return [by_id[pid] for pid in layout.profiles["profile_id"]]


def run_audiences(
    audiences: SqlAudiences, *, parquet: Path | None = None, postgres_url: str | None = None,
) -> list[tuple[Any, ...]]:
    """Every profile's row: `(profile_id, audience1, audience2, ...)`."""
    if parquet is not None and audiences.dialect.name == "duckdb":
        con = duckdb_connection(parquet=parquet)
        try:
            return _run_duckdb(audiences, con, order=True)
        finally:
            con.close()
    if postgres_url is not None:
        from segmentql.sql.engines import postgres_run

        return postgres_run(postgres_url, audiences, order=True)
    raise SqlEngineError("no data source for this dialect")


def parquet_stats(directory: Path) -> LayoutStats | None:
    """The layout statistics written beside a Parquet export (None if absent)."""
    return read_stats(directory)


def available_dialects() -> list[str]:
    return sorted(DIALECTS)


def resolve_dialect(name: str) -> Dialect:
    try:
        return dialect(name)
    except ValueError as exc:
        raise SqlEngineError(str(exc)) from None


_ = LayoutError
