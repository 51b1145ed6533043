"""Inner pytest runs (pytester) load every installed plugin again. pytest-playwright wraps each
test in a soft-assertion scope, which cannot nest in one process, so inner runs go without it.
(pytester clears PYTEST_ADDOPTS when it starts, hence the override after it.)"""

from __future__ import annotations

import pytest


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:playwright")
    return pytester
