"""The examples of docs/testing.md and docs/editor.md are the ones that run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

# See test_plugin.py: keep these imported across in-process pytester runs.
import segmentql.checker
import segmentql.state
import segmentql.syntax.parser
import segmentql.testing.assertions
import segmentql.testing.plugin
import segmentql.testing.run  # noqa: F401

pytest_plugins = ["pytester"]

DOCS = Path(__file__).parents[2] / "docs"


def blocks(name: str, language: str) -> list[str]:
    text = (DOCS / name).read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_testing_md_shows_the_example_files_verbatim() -> None:
    yaml_blocks = blocks("testing.md", "yaml")
    for example in ("pricing.schema.yaml", "test_pricing.audience.yaml"):
        assert (DOCS / "examples" / example).read_text(encoding="utf-8") in yaml_blocks


def test_testing_md_python_examples_pass(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    python = blocks("testing.md", "python")
    assert len(python) == 2
    for index, source in enumerate(python):
        pytester.makepyfile(**{f"test_doc_{index}": source})
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_editor_md_json_snippets_are_valid() -> None:
    snippets = blocks("editor.md", "json")
    assert len(snippets) == 2
    package, settings = (json.loads(s) for s in snippets)
    assert package["contributes"]["languages"][0]["id"] == "segmentql"
    assert "segmentql.schemaPath" in package["contributes"]["configuration"]["properties"]
    assert "segmentql.schemaPath" in settings


def test_editor_md_command_exists() -> None:
    assert "segmentql lsp --tcp --port 2087" in (DOCS / "editor.md").read_text(encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "segmentql", "lsp", "--help"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0
    assert "--tcp" in out.stdout and "--port" in out.stdout
