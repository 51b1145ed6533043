"""The README's examples run: every ```python block executes; the quick start is what CI runs."""

from __future__ import annotations

import re
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


def test_readme_has_the_venv_and_both_quick_start_commands() -> None:
    venv, install, suite = (b.strip() for b in blocks("sh")[:3])
    assert venv == "python3 -m venv .venv && . .venv/bin/activate"
    assert install.startswith("python3 -m pip install -e") and "segmentql demo" in install
    assert suite == "python3 -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert install in ci and suite in ci


# The README's shell lines run in tests/project/test_doc_shell.py (with every page's), and
# the venv, install and starter-project path in a fresh venv in test_newcomer.py.
