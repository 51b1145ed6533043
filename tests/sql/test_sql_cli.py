"""`segmentql export`, `audience` and `sql` as real processes on a SQLite store."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

NOW = "2024-07-01T12:00:00Z"


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segmentql", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    events = [
        {"type": "identify", "anonymous_id": "d1", "user_id": "u1",
         "traits": {"email": "a@acme.com"}},
        {"type": "patch", "user_id": "u1",
         "operations": [{"op": "set", "path": "custom.plan", "value": "pro"}]},
        {"type": "track", "anonymous_id": "d1", "user_id": "u1", "event": "pageOpened",
         "timestamp": "2024-06-30T10:00:00Z", "properties": {"url": "https://x.com/pricing"}},
        {"type": "identify", "anonymous_id": "d2", "user_id": "u2",
         "traits": {"email": "b@x.org", "plan": "free"}},
        {"type": "track", "anonymous_id": "d3", "event": "pageOpened",
         "timestamp": "2024-06-01T10:00:00Z", "properties": {"url": "https://x.com/home"}},
    ]
    (tmp_path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    assert run("apply", "events.jsonl", "--store", "s.sqlite", cwd=tmp_path).returncode == 0
    done = run("export", "--store", "s.sqlite", "--to", "layout", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "exported 3 profiles" in done.stderr
    return tmp_path


def test_export_writes_the_layout(layout: Path) -> None:
    profiles = pq.read_table(layout / "layout" / "profiles.parquet")
    assert profiles.num_rows == 3
    assert {"profile_id", "user_id", "user_data", "session_data", "account_data",
            "updated_at"} <= set(profiles.column_names)
    events = pq.read_table(layout / "layout" / "events.parquet")
    assert events.column("type").to_pylist().count("pageOpened") == 2
    stats = json.loads((layout / "layout" / "layout.json").read_text())
    assert stats["version"] == 1 and "user_data" in stats["columns"]


def test_audience_count_ids_and_files(layout: Path) -> None:
    count = run("audience", 'user\'s plan is "pro"', "--parquet", "layout", "--count",
                cwd=layout)
    assert count.returncode == 0, count.stderr
    assert count.stdout.strip() == "1"
    ids = run("audience", 'user has viewed a page with url like "pricing" in the last 7 days',
              "--parquet", "layout", "--now", NOW, cwd=layout)
    assert ids.returncode == 0 and len(ids.stdout.split()) == 1
    (layout / "aud.yaml").write_text('pro: user\'s plan is "pro"\n'
                                     'free: user\'s plan is "free"\n'
                                     "known: user is identified\n")
    out = run("audience", "--audiences", "aud.yaml", "--parquet", "layout", "--output",
              "ids.csv", cwd=layout)
    assert out.returncode == 0, out.stderr
    with (layout / "ids.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 2 and {r["known"] for r in table} == {"true"}
    assert sorted(r["pro"] + r["free"] for r in table) == ["falsetrue", "truefalse"]
    out = run("audience", "--audiences", "aud.yaml", "--parquet", "layout", "--output",
              "ids.parquet", cwd=layout)
    assert out.returncode == 0
    assert pq.read_table(layout / "ids.parquet").num_rows == 2


def test_diagnostics_and_usage_errors(layout: Path) -> None:
    bad = run("audience", "context's x is 1", "--parquet", "layout", cwd=layout)
    assert bad.returncode == 1 and "Q402" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("audience", "user is identified", "--parquet", "nowhere", cwd=layout)
    assert missing.returncode == 2 and "profiles.parquet" in missing.stderr
    both = run("audience", "user is identified", cwd=layout)
    assert both.returncode == 2
    sql = run("sql", 'user\'s plan is "pro"', "--dialect", "bigquery", cwd=layout)
    assert sql.returncode == 0 and sql.stdout.startswith("SELECT"), sql.stderr
    unknown = run("sql", "user is identified", "--dialect", "oracle", cwd=layout)
    assert unknown.returncode == 2 and "unknown SQL dialect" in unknown.stderr
