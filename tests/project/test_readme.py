"""The README's examples run: every ```python block executes, every shell line exits 0 or 1."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README) if lang == language]


@pytest.mark.parametrize("source", blocks("python"), ids=lambda s: s.split("\n")[2][:40])
def test_python_examples_run(source: str) -> None:
    exec(compile(source, "README.md", "exec"), {"__name__": "readme"})


def shell_lines() -> list[str]:
    lines = []
    for body in blocks("sh"):
        for line in body.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("segmentql ") and " lsp" not in command:
                lines.append(command)
    return lines


def test_readme_has_both_quick_start_commands() -> None:
    commands = [b.strip() for b in blocks("sh")[:2]]
    assert commands[0].startswith("python3 -m pip install -e") and "segmentql demo" in commands[0]
    assert commands[1] == "python3 -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[0] in ci and commands[1] in ci


@pytest.mark.parametrize("command", shell_lines())
def test_shell_examples_run(command: str, tmp_path: Path) -> None:
    (tmp_path / "profile.json").write_text(
        json.dumps({"user": {"plan": "pro", "stats": {"sessions": 3}}, "events": []})
    )
    (tmp_path / "events.jsonl").write_text(
        json.dumps({"type": "identify", "anonymous_id": "d1", "user_id": "u1"}) + "\n"
    )
    argv = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", "segmentql", *argv[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
