"""Batch audiences: DuckDB over the Parquet layout against the Python evaluator, same profiles.

Generates N profiles with event histories (default 1,000,000; generation and the Parquet
write are excluded from every timing), then for each rule of `bench_eval.py` that compiles to
SQL, plus an event rule and a 100-audience set (one SELECT), measures:
- the evaluator: `Query.matches` over the ready profile dicts, one loop;
- DuckDB: the compiled audience counted over the Parquet files (best of 3 runs);
and checks that both count the same profiles. With `--postgres URL` the same rows are loaded
into PostgreSQL (load excluded) and timed beside them. Machine load is printed with the figures.

    python bench/bench_sql.py                       # 1M profiles
    python bench/bench_sql.py --profiles 200000     # quicker
    python bench/bench_sql.py --postgres postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_eval import RULES

import segmentql
from segmentql.sql import SqlCompileError, compile_sql, duckdb_connection
from segmentql.sql.layout import Rows, read_stats, write_parquet

NOW = "2024-07-01T12:00:00Z"
EVENT_RULE = ('user\'s plan is "pro" and user has viewed a page with url like "pricing" '
              'at least 2 times in the last 7 days')


def generate(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    plans, cities = ["pro", "free", "team", None], ["Berlin", "Munich", "Paris", "Lisbon"]
    interests = ["sports", "music", "travel", "esports", "sport"]
    urls = ["https://x.com/pricing", "https://x.com/home", "https://x.com/blog/pricing-news"]
    out = []
    for i in range(count):
        user: dict[str, Any] = {"id": f"u{i}", "email": f"p{i}@" + rnd.choice(
            ["acme.com", "example.org", "acme.com.evil.org"]), "verified": rnd.random() < 0.6,
            "interests": rnd.sample(interests, rnd.randint(0, 3)),
            "address": {"city": rnd.choice(cities), "country": rnd.choice(["DE", "FR"])}}
        plan = rnd.choice(plans)
        if plan is not None:
            if rnd.random() < 0.3:
                user["custom"] = {"plan": plan}
            else:
                user["plan"] = plan
        session = {"id": f"s{i}", "plan": rnd.choice(["premium", "basic"]),
                   "device": rnd.choice(["mobile", "desktop"]), "pageviews": rnd.randint(0, 20)}
        events = [{"type": "pageOpened",
                   "timestamp": f"2024-06-{rnd.randint(20, 30):02d}T{rnd.randint(0, 23):02d}:00:00Z",
                   "sessionId": f"s{i}", "properties": {"url": rnd.choice(urls)}}
                  for _ in range(rnd.randint(0, 12))]
        out.append({"user": user, "session": session, "events": events})
    return out


def audience_set(count: int) -> dict[str, str]:
    shapes = ['user\'s plan is "{p}"', 'user\'s email ends with "{d}"',
              'user\'s interests include "{t}"', 'session\'s pageviews > {n}',
              'user\'s address\'s city is "{c}" and session\'s device is "mobile"']
    rnd = random.Random(3)
    out = {}
    for i in range(count):
        out[f"a{i}"] = rnd.choice(shapes).format(
            p=rnd.choice(["pro", "free", "team"]), d=rnd.choice(["acme.com", ".org"]),
            t=rnd.choice(["sports", "music"]), n=rnd.randint(0, 20),
            c=rnd.choice(["Berlin", "Paris"]))
    return out


def best(fn: Any, runs: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL to load and time beside DuckDB")
    args = parser.parse_args()
    print(f"# bench_sql: {args.profiles:,} profiles; load average before: "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    start = time.perf_counter()
    profiles = generate(args.profiles)
    rows = Rows()
    for index, row in enumerate(profiles):
        rows.add(f"{index:09d}", row)
    directory = Path(tempfile.mkdtemp(prefix="bench_sql_"))
    write_parquet(rows, directory)
    events = len(rows.events["profile_id"])
    print(f"generated {args.profiles:,} profiles, {events:,} events, Parquet written in "
          f"{time.perf_counter() - start:.1f} s (excluded)")
    con = duckdb_connection(parquet=directory)
    stats = read_stats(directory)
    pg = None
    if args.postgres:
        from segmentql.sql.engines import postgres_load

        postgres_load(args.postgres, rows)
        pg = args.postgres
    del rows
    rules = {key: text for key, (_, text, _, _) in RULES.items()}
    rules["event"] = EVENT_RULE
    print("\n| rule | evaluator s | DuckDB s | ratio | PostgreSQL s | matches |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, text in rules.items():
        try:
            compiled = compile_sql(text, now=NOW, stats=stats)
        except SqlCompileError as exc:
            print(f"| {key} | | | | | not compiled: {exc.diagnostics[0].code} |")
            continue
        query = segmentql.compile(text)
        evaluator_s, expected = best(lambda q=query: sum(
            1 for p in profiles if q.matches(p, now=NOW)), runs=1)
        sql = f"SELECT count(*) FROM ({compiled.sql(pretty=False)}) WHERE matches"
        duck_s, got = best(lambda s=sql: con.execute(s).fetchone()[0])
        pg_cell = ""
        if pg is not None:
            from segmentql.sql.engines import postgres_run

            pg_compiled = compile_sql(text, dialect="postgres", now=NOW)
            pg_s, pg_rows = best(lambda c=pg_compiled: postgres_run(pg, c, order=False), 1)
            pg_cell = f"{pg_s:.2f}" + ("" if sum(r[1] for r in pg_rows) == expected else " (!)")
        flag = "" if got == expected else f" (DuckDB {got}!)"
        print(f"| {key} | {evaluator_s:.2f} | {duck_s:.3f} | {evaluator_s / duck_s:.2f}x | "
              f"{pg_cell} | {expected:,}{flag} |")
    audiences = audience_set(100)
    compiled_set = compile_sql(audiences, now=NOW, stats=stats)
    queries = [segmentql.compile(t) for t in audiences.values()]
    evaluator_s, _ = best(lambda: [sum(1 for p in profiles if q.matches(p)) for q in queries],
                          runs=1)
    columns = ", ".join(f'count_if("{n}")' for n in compiled_set.names)
    duck_s, _ = best(lambda: con.execute(
        f"SELECT {columns} FROM ({compiled_set.sql(pretty=False)})").fetchone())
    print(f"| 100 audiences (one SELECT) | {evaluator_s:.2f} | {duck_s:.3f} | "
          f"{evaluator_s / duck_s:.2f}x | | |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
