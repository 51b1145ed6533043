"""Testing helpers for audience definitions: assertions and hypothesis strategies.

Names are loaded lazily so that importing the pytest plugin (which pytest does in every run
through the ``pytest11`` entry point) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["assert_audience", "events", "profiles", "queries"]


def __getattr__(name: str) -> Any:
    if name == "assert_audience":
        from segmentql.testing.assertions import assert_audience

        return assert_audience
    if name in ("events", "profiles", "queries"):
        from segmentql.testing import strategies

        return getattr(strategies, name)
    raise AttributeError(f"module 'segmentql.testing' has no attribute {name!r}")
