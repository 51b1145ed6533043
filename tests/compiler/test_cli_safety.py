"""The CLI under hostile input (issue #12): exit codes exactly as documented (2 for usage
and internal errors, never 1, which means "no match"), strictly valid JSON, bounded input
files, our own errors for an out-of-range `--now`, and the `--budget-*` options."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from segmentql.cli import common, main


def _run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "segmentql", *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


def test_variables_from_dev_zero_are_refused_not_read_forever() -> None:
    done = _run("eval", "true", "--variables", "/dev/zero")
    assert done.returncode == 2
    assert b"larger than" in done.stderr and b"Traceback" not in done.stderr


def test_standard_input_is_bounded() -> None:
    assert common.MAX_INPUT_BYTES < 20_000_000
    done = _run("eval", "true", "--variables", "-", stdin=b"{" + b" " * 20_000_000 + b"}")
    assert done.returncode == 2 and b"larger than" in done.stderr


@pytest.mark.parametrize("now", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                                 "99999-01-01T00:00:00Z", "2024-13-01"])
def test_an_out_of_range_now_is_our_error(now: str) -> None:
    for query in ("tomorrow is after today", "now is after \"2020-01-01\" as datetime"):
        done = _run("eval", query, "--now", now)
        assert done.returncode == 2, done
        assert b"Traceback" not in done.stderr and b"internal" not in done.stderr
        assert b"error[Q3" in done.stderr or b"--now" in done.stderr


def test_json_output_is_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v.json"
    path.write_text('{"user": {"x": 1e308}}', encoding="utf-8")
    assert main(["eval", "[user's x, user's x]", "--variables", str(path),
                 "--format", "json"]) == 0
    json.loads(capsys.readouterr().out, parse_constant=_reject)
    path.write_text('{"user": {"x": NaN}}', encoding="utf-8")
    assert main(["eval", "user's x", "--variables", str(path), "--format", "json"]) == 2
    assert "not JSON" in capsys.readouterr().err
    assert main(["explain", "user's x > 1", "--variables", str(path), "--format",
                 "json"]) == 2


def _reject(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")


def test_an_internal_error_exits_2_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentql.cli import evaluate

    def broken(args: argparse.Namespace) -> int:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(evaluate, "run_eval", broken)
    assert main(["eval", "true"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RecursionError" in err and "Traceback" not in err


def test_a_schema_must_be_a_regular_file(capsys: pytest.CaptureFixture[str]) -> None:
    for path in ("/dev/zero", "/dev/stdin", "/"):
        assert main(["check", "true", "--schema", path]) == 2
        assert main(["eval", "true", "--schema", path]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_budget_options(capsys: pytest.CaptureFixture[str]) -> None:
    text = "some a in 1..30 satisfies some b in 1..30 satisfies a + b < 0"
    assert main(["eval", text]) == 1
    capsys.readouterr()
    assert main(["eval", text, "--budget-steps", "100"]) == 2
    assert "Q312" in capsys.readouterr().err
    assert main(["check", text, "--budget-steps", "100", "--format", "json"]) == 0
    assert "Q225" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["eval", text, "--budget-steps", "0"])
    assert info.value.code == 2
