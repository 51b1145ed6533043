"""`segmentql audience`, `segmentql sql` and `segmentql export`: batch audiences in SQL."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from segmentql.cli.common import EXIT_OK, CommandError, read_query, read_text_file


def register(subparsers: Any) -> None:
    audience = subparsers.add_parser(
        "audience", help="who is in an audience: run it as SQL over Parquet or PostgreSQL",
        description="Compile audiences to SQL and run them over the whole profile base.")
    audience.add_argument("query", nargs="?", help="the audience query (or --audiences)")
    audience.add_argument("--audiences", help="a YAML/JSON mapping of audience name to query")
    source = audience.add_mutually_exclusive_group(required=True)
    source.add_argument("--parquet", help="a directory written by `segmentql export`")
    source.add_argument("--store", help="a PostgreSQL store URL (postgresql://...)")
    audience.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                          help="engine for --parquet (default: duckdb)")
    audience.add_argument("--now", help="the evaluation instant (ISO-8601; default: now)")
    audience.add_argument("--time-zone", default="UTC", help="IANA zone (default: UTC)")
    out = audience.add_mutually_exclusive_group()
    out.add_argument("--count", action="store_true", help="print how many profiles match")
    out.add_argument("--output", help="write matching profile ids to ids.csv or ids.parquet")
    audience.set_defaults(handler=run_audience)

    sql = subparsers.add_parser("sql", help="print the SQL an audience compiles to")
    sql.add_argument("query", nargs="?", default="-", help="the query ('-': standard input)")
    sql.add_argument("--dialect", default="duckdb",
                     help="duckdb, postgres, spark (executed in tests); trino, bigquery, "
                     "snowflake (generated, not executed here); default: duckdb")
    sql.add_argument("--now", help="the evaluation instant (ISO-8601; default: now)")
    sql.add_argument("--time-zone", default="UTC", help="IANA zone (default: UTC)")
    sql.set_defaults(handler=run_sql)

    export = subparsers.add_parser(
        "export", help="write a store's profiles and events as the Parquet layout")
    export.add_argument("--store", required=True,
                        help="a SQLite store file or a PostgreSQL store URL")
    export.add_argument("--to", required=True, help="the output directory")
    export.set_defaults(handler=run_export)


def _audiences(args: argparse.Namespace) -> dict[str, str]:
    if (args.query is None) == (args.audiences is None):
        raise CommandError("give either a QUERY or --audiences FILE")
    if args.query is not None:
        return {"matches": read_query(args.query)}
    import yaml

    text = read_text_file(args.audiences, "audiences")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CommandError(f"audiences file {args.audiences} is not YAML/JSON: {exc}") from None
    if not isinstance(data, dict) or not data or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CommandError(f"audiences file {args.audiences} must map audience names to "
                           "query texts")
    return data


def _compile(queries: dict[str, str], dialect: str, args: argparse.Namespace,
             stats: Any = None) -> Any:
    from segmentql.errors import QueryError
    from segmentql.sql import compile_sql

    try:
        return compile_sql(queries, dialect=dialect, now=args.now, time_zone=args.time_zone,
                           stats=stats)
    except QueryError as exc:
        print(exc.render(), file=sys.stderr)
        raise CommandError("the audience does not compile to SQL", 1) from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def run_sql(args: argparse.Namespace) -> int:
    compiled = _compile({"matches": read_query(args.query)}, args.dialect, args)
    print(compiled.sql())
    return EXIT_OK


def run_audience(args: argparse.Namespace) -> int:
    from segmentql.errors import SegmentqlError
    from segmentql.sql import run_audiences

    queries = _audiences(args)
    if args.engine == "spark" and not args.parquet:
        raise CommandError("--engine spark runs over --parquet DIR")
    dialect = "postgres" if args.store else args.engine
    if args.store and not args.store.startswith(("postgresql://", "postgres://")):
        raise CommandError("--store takes a PostgreSQL URL (export a SQLite store with "
                           "`segmentql export` and use --parquet)")
    from segmentql.sql import parquet_stats

    try:
        stats = parquet_stats(Path(args.parquet)) if dialect == "duckdb" else None
    except SegmentqlError as exc:
        raise CommandError(str(exc)) from None
    compiled = _compile(queries, dialect, args, stats)
    try:
        if dialect == "spark":
            rows = _run_spark(compiled, Path(args.parquet))
        else:
            rows = run_audiences(compiled, parquet=Path(args.parquet) if args.parquet else None,
                                 postgres_url=args.store)
    except SegmentqlError as exc:
        raise CommandError(str(exc)) from None
    names = compiled.names
    if args.count:
        for index, name in enumerate(names, start=1):
            total = sum(1 for row in rows if row[index])
            print(f"{name}\t{total}" if len(names) > 1 else total)
        return EXIT_OK
    matched = [(row[0], *row[1:]) for row in rows if any(row[1:])]
    if args.output:
        _write_ids(Path(args.output), names, matched)
    else:
        for row in matched:
            print(row[0] if len(names) == 1 else "\t".join(
                [str(row[0]), *(n for n, hit in zip(names, row[1:], strict=True) if hit)]))
    return EXIT_OK


def _run_spark(compiled: Any, directory: Path) -> list[tuple[Any, ...]]:
    """A local-mode Spark session (the settings of docs/sql.md), the layout's views, the SQL."""
    from segmentql.sql.engines import local_spark, spark_run, spark_views
    from segmentql.sql.layout import check_directory

    check_directory(directory)
    try:
        spark = local_spark("segmentql-audience")
    except ImportError:
        raise CommandError("--engine spark needs pyspark (the 'spark' extra)") from None
    try:
        spark_views(spark, str(directory))
        return spark_run(spark, compiled)
    finally:
        spark.stop()


def _write_ids(path: Path, names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    try:
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns: dict[str, Any] = {"profile_id": [r[0] for r in rows]}
            if len(names) > 1:
                for index, name in enumerate(names, start=1):
                    columns[name] = [bool(r[index]) for r in rows]
            pq.write_table(pa.table(columns), path)
        elif path.suffix == ".csv":
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["profile_id", *names] if len(names) > 1 else ["profile_id"])
                for r in rows:
                    writer.writerow([r[0], *(str(bool(v)).lower() for v in r[1:])]
                                    if len(names) > 1 else [r[0]])
        else:
            raise CommandError("--output must end in .csv or .parquet")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


def run_export(args: argparse.Namespace) -> int:
    from segmentql.errors import SegmentqlError
    from segmentql.sql.export import export_postgres, export_sqlite

    target = Path(args.to)
    try:
        if args.store.startswith(("postgresql://", "postgres://")):
            count = export_postgres(args.store, target)
        else:
            if not Path(args.store).is_file():
                raise CommandError(f"store file not found: {args.store}")
            count = export_sqlite(Path(args.store), target)
    except SegmentqlError as exc:
        raise CommandError(str(exc)) from None
    print(f"exported {count} profiles to {target}", file=sys.stderr)
    return EXIT_OK
