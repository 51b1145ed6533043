"""The Python examples of docs/performance.md run, and its table names the bench's rules."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_doc_has_examples() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("source", EXAMPLES)
def test_example_runs(source: str) -> None:
    exec(compile(source, "performance.md", "exec"), {})


def test_table_lists_every_bench_rule_with_its_query() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_eval
    finally:
        sys.path.remove(str(ROOT / "bench"))
    for rule, (title, text, _base, _expected) in bench_eval.RULES.items():
        assert f"| ({rule}) {title} | `{text}` |" in DOC, rule
