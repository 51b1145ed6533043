"""docs/state-model.md: its python examples run in order in one namespace; its shell lines run."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "state-model.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def test_python_examples_run_in_order() -> None:
    namespace: dict[str, object] = {"__name__": "state_model_doc"}
    sources = [body for lang, body in BLOCK.findall(DOC) if lang == "python"]
    assert len(sources) >= 5
    for source in sources:
        exec(compile(source, "docs/state-model.md", "exec"), namespace)


def test_shell_examples_run(tmp_path: Path) -> None:
    # The block runs in docs/examples (its first line is `cd docs/examples`), whose
    # events.jsonl it applies.
    shutil.copytree(Path(__file__).resolve().parents[2] / "docs" / "examples", tmp_path,
                    dirs_exist_ok=True)
    commands = [line.split("#")[0].strip() for lang, body in BLOCK.findall(DOC) if lang == "sh"
                for line in body.splitlines()]
    assert commands[0] == "cd docs/examples"
    commands = commands[1:]
    assert len(commands) == 4
    outputs = []
    for command in commands:
        result = subprocess.run([sys.executable, "-m", "segmentql", *shlex.split(command)[1:]],
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert json.loads(outputs[2])["profiles"] == 1
    assert "nothing to do" in outputs[3]
    snapshot = json.loads(outputs[1])
    assert snapshot["user"]["id"] == "u1"
    assert snapshot["user"]["stats"]["pageviews"] == 1
