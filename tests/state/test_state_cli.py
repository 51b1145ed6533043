"""`segmentql apply` and `segmentql snapshot`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentql.cli import main


def write_events(path: Path, events: list[object]) -> None:
    path.write_text("\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n")


def pageview(anon: str, n: int) -> dict[str, object]:
    return {"type": "track", "anonymous_id": anon, "event": "pageOpened",
            "properties": {"url": f"/{n}"}, "timestamp": f"2026-01-01T10:{n % 60:02d}:00Z"}


def snapshot(store: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["snapshot", "--store", str(store), *args]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_apply_then_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, [pageview("d", 1), "",
                          {"type": "identify", "anonymous_id": "d", "user_id": "u",
                           "traits": {"plan": "pro"}, "timestamp": "2026-01-01T10:02:00Z"}])
    store = tmp_path / "s.db"
    assert main(["apply", str(events), "--store", str(store)]) == 0
    assert "applied 2 events" in capsys.readouterr().out
    snap = snapshot(store, capsys, "--user-id", "u")
    assert snap["user"] == {"custom": {"plan": "pro"}, "id": "u",
                            "stats": {"sessions": 1, "pageviews": 1, "orders": 0}}
    assert snap["session"]["start"] == "2026-01-01T10:01:00+00:00"  # type: ignore[index]


def test_a_bad_line_reports_file_and_line_and_keeps_what_came_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    lines: list[object] = [pageview("d", n) for n in range(7)]
    lines.insert(5, {"type": "patch", "anonymous_id": "d",
                     "operations": [{"op": "set", "path": "a.b", "value": 1}]})
    write_events(events, lines)
    store = tmp_path / "s.db"
    assert main(["apply", str(events), "--store", str(store), "--batch-size", "2"]) == 1
    err = capsys.readouterr().err
    assert f"{events}:6: operation 0 (set 'a.b'): the parent 'a' does not exist" in err
    assert "stopped after applying 5 events" in err
    user = snapshot(store, capsys, "--anonymous-id", "d")["user"]
    assert user["stats"]["pageviews"] == 5  # type: ignore[index]


def test_invalid_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, [pageview("d", 1), '{"type": "track",'])
    assert main(["apply", str(events), "--store", str(tmp_path / "s.db")]) == 1
    err = capsys.readouterr().err
    assert f"{events}:2: not valid JSON" in err
    assert "stopped after applying 1 events" in err


def test_progress_bar_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, [pageview(f"d{n}", n) for n in range(50)])
    assert main(["apply", str(events), "--store", str(tmp_path / "s.db"), "--progress"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"100% of {events.stat().st_size} bytes, 50 lines\n")


def test_no_progress_bar_when_not_a_terminal(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, [pageview("d", 1)])
    assert main(["apply", str(events), "--store", str(tmp_path / "s.db"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_snapshot_options_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, [pageview("d", 1)])
    store = tmp_path / "s.db"
    assert main(["apply", str(events), "--store", str(store)]) == 0
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"page": {"url": "/x"}, "location": {"city": "Lyon"}}))
    snap = snapshot(store, capsys, "--anonymous-id", "d", "--request", str(request),
                    "--now", "2026-01-01T12:00:00")
    assert snap["page"] == {"url": "/x"}
    assert snap["session"] == {"custom": {}, "stats": {"pageviews": 0, "orders": 0}}

    assert main(["snapshot", "--store", str(tmp_path / "missing.db"), "--user-id", "u"]) == 1
    captured = capsys.readouterr()
    assert "no store at" in captured.err and json.loads(captured.out)["user"]["id"] == "u"
    assert not (tmp_path / "missing.db").exists()
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 200)
    assert main(["snapshot", "--store", str(bad), "--user-id", "u"]) == 2
    assert "bad.db: not a readable segmentql store" in capsys.readouterr().err
    assert main(["apply", str(tmp_path / "nope.jsonl"), "--store", str(store)]) == 2
    assert "cannot read events file" in capsys.readouterr().err
    request.write_text(json.dumps({"user": {}}))
    assert main(["snapshot", "--store", str(store), "--user-id", "u",
                 "--request", str(request)]) == 2


def test_a_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.jsonl"
    write_events(events, [pageview("d", 1), pageview("d", 7)])  # six minutes apart
    policy = tmp_path / "policy.yaml"
    policy.write_text("session_timeout: PT5M\nmax_merges: 3\n")
    store = tmp_path / "s.db"
    assert main(["apply", str(events), "--store", str(store), "--policy", str(policy)]) == 0
    snap = snapshot(store, capsys, "--anonymous-id", "d")
    assert snap["user"]["stats"]["sessions"] == 2  # type: ignore[index]
    policy.write_text("session_timeout: soon\n")
    capsys.readouterr()
    assert main(["apply", str(events), "--store", str(store), "--policy", str(policy)]) == 2
    assert "session_timeout" in capsys.readouterr().err
