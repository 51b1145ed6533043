"""The backend fixture: the conformance tests run once per backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import state_helpers

from segmentql.state import ProfileStore

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every store `make_store` opens during the test lives on this backend."""
    opened: list[ProfileStore] = []
    numbers = itertools.count()
    kind = str(request.param)
    if kind == "memory":
        state_helpers.use_backend(None)
    elif kind == "sqlite":

        def sqlite_store(**kw: Any) -> ProfileStore:
            store = ProfileStore.open(tmp_path / f"store-{next(numbers)}.db", **kw)
            opened.append(store)
            return store

        state_helpers.use_backend(sqlite_store)
    else:
        server = request.getfixturevalue("postgres_server")
        urls: list[str] = []

        def postgres_store(**kw: Any) -> ProfileStore:
            url = server.create_database()
            urls.append(url)
            store = ProfileStore.open(url, **kw)
            opened.append(store)
            return store

        state_helpers.use_backend(postgres_store)
    try:
        yield kind
    finally:
        state_helpers.use_backend(None)
        for store in opened:
            store.close()
        if kind == "postgres":
            for url in urls:
                server.drop_database(url)
