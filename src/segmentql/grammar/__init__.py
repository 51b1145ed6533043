"""The query grammar, `query.lark`, shipped as package data.

It is read through `importlib.resources`, which works the same from a wheel, a zip and an
editable install. `segmentql.syntax.parser` builds the parser from it.
"""

from __future__ import annotations

from importlib import resources

GRAMMAR_FILE = "query.lark"


def grammar_text() -> str:
    """The text of `query.lark`."""
    return resources.files(__name__).joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")
