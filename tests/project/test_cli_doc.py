"""docs/cli.md: every subcommand is documented, and its examples give the output shapes the
page promises (tests/project/test_doc_shell.py runs every line of them)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A scratch copy of docs/examples (its segmentql.toml included)."""
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "examples")
    return tmp_path / "examples"


def run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segmentql", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_every_subcommand_is_documented() -> None:
    from segmentql.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name in subparsers.choices:  # type: ignore[union-attr]
        assert f"| `{name}` |" in DOC, name
        assert f"segmentql {name}" in DOC, name


def test_json_findings_shape(examples: Path) -> None:
    assert 'segmentql check --format json \'user.plan is "gold"\'' in DOC
    result = run(examples, "check", "--format", "json", 'user.plan is "gold"')
    # `gold` is not a plan of the configured schema: a finding, reported as JSON data.
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["diagnostics"][0]["code"] == "Q207"
    assert set(data["diagnostics"][0]["span"]) == {
        "start", "end", "line", "column", "end_line", "end_column"
    }


def test_eval_json_shape(examples: Path) -> None:
    result = run(examples, "eval", "--format", "json", "count of user.interests",
                 "--variables", "profile.json")
    assert result.returncode == 0 and json.loads(result.stdout) == {"value": 2, "matched": False}
    result = run(examples, "eval", "--audiences", "audiences.yaml", "--variables",
                 "profile.json", "--format", "json", "--now", "2024-07-01T12:00:00Z")
    data = json.loads(result.stdout)
    assert data["matching"] == ["pros", "returning", "teams", "recent_buyers"]
    assert set(data["audiences"][0]) == {"file", "name", "query", "value", "matched"}


def test_github_annotation_shape(examples: Path) -> None:
    result = run(examples, "check", "--output-format", "github", 'usr.plan is "pro"')
    assert result.returncode == 1
    assert result.stdout.startswith("::error line=1,col=1,endLine=1,endColumn=4,title=Q200::")
