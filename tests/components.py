"""Skip-or-fail for the real components the suite starts itself (a plain module, importable
from any test as `from components import component_missing`; conftest modules are not)."""

from __future__ import annotations

import os

import pytest


def component_missing(reason: str) -> None:
    """Skip locally, fail in CI: a component CI installs must never be silently skipped."""
    if os.environ.get("CI"):
        pytest.fail(f"required component missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)
