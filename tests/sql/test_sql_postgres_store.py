"""Audiences run directly on a PostgreSQL profile store's relations (no export) and agree with
the evaluator on each profile's snapshot; `segmentql export` of that store and DuckDB over the
Parquet agree too; the CLI counts the same."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

import segmentql
from segmentql.sql import compile_sql, parquet_stats, run_audiences

pytestmark = pytest.mark.postgres

NOW = dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC)
AUDIENCES = {
    "pro": 'user\'s plan is "pro"',
    "acme": 'user\'s email ends with "@acme.com"',
    "pricing": 'user has viewed a page with url like "pricing" in the last 7 days',
    "pricing_twice": 'user has viewed a page with url like "pricing" at least 2 times',
    "identified": "user is identified",
}


def _events() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(12):
        anon = f"d{i}"
        for day in range(i % 4):
            out.append({"type": "track", "anonymous_id": anon, "event": "pageOpened",
                        "timestamp": f"2024-06-{28 - day * 3:02d}T10:00:00Z",
                        "properties": {"url": "https://x.com/pricing" if day % 2 == 0
                                       else "https://x.com/home"}})
        if i % 3 != 0:
            out.append({"type": "identify", "anonymous_id": anon, "user_id": f"u{i}",
                        "traits": {"email": f"p{i}@" + ("acme.com" if i % 2 else "x.org")}})
            out.append({"type": "patch", "user_id": f"u{i}", "operations": [
                {"op": "set", "path": "custom.plan", "value": "pro" if i % 4 else "free"}]})
    return out


def test_audiences_run_on_the_postgres_store(postgres_url: str, tmp_path: Path) -> None:
    store = segmentql.ProfileStore.open(postgres_url)
    try:
        store.apply(_events())
        expected: dict[str, dict[str, bool]] = {name: {} for name in AUDIENCES}
        for i in range(12):
            snapshot = (store.snapshot(user_id=f"u{i}", now=NOW) if i % 3 != 0
                        else store.snapshot(anonymous_id=f"d{i}", now=NOW))
            for name, text in AUDIENCES.items():
                expected[name][f"{i}"] = segmentql.compile(text).matches(snapshot, now=NOW)
    finally:
        store.close()
    compiled = compile_sql(AUDIENCES, dialect="postgres", now=NOW)
    rows = run_audiences(compiled, postgres_url=postgres_url)
    assert len(rows) == 11  # d0 did nothing: no profile (its snapshot matches nothing)
    counts = {name: sum(1 for r in rows if r[k + 1]) for k, name in enumerate(compiled.names)}
    assert counts == {name: sum(v.values()) for name, v in expected.items()}
    assert counts["pro"] > 0 and counts["pricing"] > 0

    # The same store exported to Parquet gives the same counts through DuckDB and the CLI.
    layout = tmp_path / "layout"
    done = subprocess.run([sys.executable, "-m", "segmentql", "export", "--store", postgres_url,
                           "--to", str(layout)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    duck = compile_sql(AUDIENCES, now=NOW, stats=parquet_stats(layout))
    duck_rows = run_audiences(duck, parquet=layout)
    assert {name: sum(1 for r in duck_rows if r[k + 1])
            for k, name in enumerate(duck.names)} == counts
    cli = subprocess.run([sys.executable, "-m", "segmentql", "audience", AUDIENCES["pricing"],
                          "--store", postgres_url, "--now", NOW.isoformat(), "--count"],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == str(counts["pricing"])
