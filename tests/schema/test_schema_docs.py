"""docs/schema.md: its examples run, its schema file loads, its catalog is the real one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmentql.schema import Schema
from segmentql.schema.export import catalog_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, flags=re.DOTALL)
PYTHON = [body for lang, body in BLOCKS if lang == "python"]
SCHEMA_FILES = [body for lang, body in BLOCKS if lang == "yaml" and body.startswith("# schema file")]


@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_examples_run(code: str) -> None:
    exec(compile(code, str(DOC), "exec"), {})


def test_there_are_examples() -> None:
    assert len(PYTHON) >= 5 and SCHEMA_FILES


@pytest.mark.parametrize("text", SCHEMA_FILES)
def test_schema_file_examples_load(text: str) -> None:
    schema = Schema.from_yaml(text, path="docs/schema.md")
    assert schema.type_at("user", ["plan"]) is not None
    assert schema.type_at("tenant", ["region"]) is not None


def test_catalog_section_is_generated_from_the_default_schema() -> None:
    start = TEXT.index("<!-- catalog:start -->\n") + len("<!-- catalog:start -->\n")
    end = TEXT.index("<!-- catalog:end -->")
    assert TEXT[start:end] == catalog_markdown(Schema.default())
