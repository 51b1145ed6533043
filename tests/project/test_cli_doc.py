"""docs/cli.md's examples run, with the exit code and output shape the doc promises."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def doc_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DOC, re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "profile.json").write_text(
        json.dumps(
            {"user": {"plan": "pro", "interests": ["a", "b"], "stats": {"sessions": 3}}}
        )
    )
    (tmp_path / "schema.yaml").write_text(
        "custom:\n  user:\n    plan:\n      enum: [free, pro]\n      description: The plan.\n"
    )
    (tmp_path / "audiences.yaml").write_text(
        'pros: user\'s plan is "pro"\nreturning: user is returning\n'
    )
    (tmp_path / "events.jsonl").write_text(
        json.dumps({"type": "identify", "anonymous_id": "d1", "user_id": "u1"}) + "\n"
    )
    return tmp_path


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    assert argv[0] == "segmentql"
    return subprocess.run(
        [sys.executable, "-m", "segmentql", *argv[1:]],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_every_subcommand_is_documented() -> None:
    from segmentql.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name in subparsers.choices:  # type: ignore[union-attr]
        assert f"| `{name}` |" in DOC, name


@pytest.mark.parametrize("command", doc_commands())
def test_documented_command_runs(command: str, workdir: Path) -> None:
    if command.startswith("segmentql snapshot"):
        run("segmentql apply events.jsonl --store profiles.sqlite", workdir)
    result = run(command, workdir)
    assert "Traceback" not in result.stderr
    if "check --schema schema.yaml --format json" in command:
        # `gold` is not a plan: a finding, reported as JSON data.
        data = json.loads(result.stdout)
        assert data["version"] == 1 and data["diagnostics"][0]["code"] == "Q207"
        assert set(data["diagnostics"][0]["span"]) == {
            "start", "end", "line", "column", "end_line", "end_column"
        }
        return
    assert result.returncode == 0, result.stdout + result.stderr
    if "eval --format json" in command:
        assert json.loads(result.stdout) == {"value": 2, "matched": False}
