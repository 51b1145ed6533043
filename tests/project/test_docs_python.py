"""The Python examples of docs/api.md and docs/configuration.md run (from the checkout's root,
where their relative paths point)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(page: str) -> list[str]:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize(
    ("page", "index", "source"),
    [(page, i, source) for page in ("api.md", "configuration.md")
     for i, source in enumerate(python_blocks(page))],
)
def test_python_example_runs(page: str, index: int, source: str,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(source, f"docs/{page}#{index}", "exec"), {"__name__": "docs"})


def test_the_package_docstring_names_existing_docs() -> None:
    import segmentql

    for name in re.findall(r"docs/[\w-]+\.md", segmentql.__doc__ or ""):
        assert (ROOT / name).is_file(), name
