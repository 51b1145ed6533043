"""The checked-in golden SQL (Trino, BigQuery, Snowflake) is what the compiler generates now;
every dialect has golden files, and a set a dialect cannot compile gets its Q401 diagnostic."""

from __future__ import annotations

import golden
import pytest

from segmentql.sql import GOLDEN, SqlCompileError, compile_sql

FILES = golden.files()


@pytest.mark.parametrize("path", sorted(FILES), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_file_is_current(path) -> None:  # type: ignore[no-untyped-def]
    assert path.read_text(encoding="utf-8") == FILES[path], (
        f"{path} is stale: run `python tests/sql/golden.py --write` and review the diff")


def test_every_golden_dialect_has_files_and_no_strays() -> None:
    for dialect in GOLDEN:
        assert any(p.parent.name == dialect for p in FILES), dialect
    on_disk = set(golden.HERE.glob("*/*.sql"))
    assert on_disk == set(FILES)


def test_snowflake_refuses_collection_tests_with_q401() -> None:
    with pytest.raises(SqlCompileError) as raised:
        compile_sql(golden.SETS["collections"], dialect="snowflake", now=golden.NOW)
    assert raised.value.diagnostics[0].code == "Q401"
