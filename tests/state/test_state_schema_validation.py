"""Patches validated against a schema (segmentql.schema.Schema); structural checks without one."""

from __future__ import annotations

import pytest
from state_helpers import identify, make_store, patch

from segmentql.state import PatchError

#: Every test here runs on each backend (memory, SQLite, PostgreSQL).
pytestmark = pytest.mark.usefixtures("store_backend")

schema_module = pytest.importorskip("segmentql.schema")

CLOSED = """
variables:
  user:
    type: object
    fields:
      email: {type: string}
      custom:
        type: object
        open: false
        fields:
          plan: {type: string, enum: [free, pro]}
          score: {type: integer}
"""


def default_store():  # type: ignore[no-untyped-def]
    store, _ = make_store(schema=schema_module.Schema.default())
    return store


def test_a_value_of_the_wrong_type_rejects_the_patch_naming_the_type() -> None:
    store = default_store()
    with pytest.raises(PatchError) as info:
        store.apply(patch(("set", "custom.x", 1), ("set", "gender", "robot"), anon="a"))
    assert info.value.operation_index == 1
    assert "the schema expects string" in info.value.reason
    assert "robot" in info.value.reason
    assert store.snapshot(anonymous_id="a")["user"]["custom"] == {}


def test_results_of_list_operations_are_checked_too() -> None:
    store = default_store()
    store.apply(patch(("add", "interests", "golf"), anon="a"))
    with pytest.raises(PatchError, match="list"):
        store.apply(patch(("add", "interests", 5), anon="a"))
    with pytest.raises(PatchError, match="schema expects"):
        store.apply(identify("u", "a", birthDate="not a date"))


def test_custom_attributes_are_open_in_the_default_schema() -> None:
    store = default_store()
    store.apply(patch(("set", "anything", {"nested": [1, 2]}), anon="a"))
    store.apply(patch(("set", "plan", "premium"), anon="a", target="session"))
    assert store.snapshot(anonymous_id="a")["user"]["custom"] == {"anything": {"nested": [1, 2]}}


def test_a_closed_custom_object_rejects_undeclared_names() -> None:
    schema = schema_module.Schema.from_yaml(CLOSED)
    store, _ = make_store(schema=schema)
    store.apply(patch(("set", "plan", "pro"), ("increment", "score", 2), anon="a"))
    with pytest.raises(PatchError, match=r"does not declare user\.custom\.color"):
        store.apply(patch(("set", "color", "red"), anon="a"))
    with pytest.raises(PatchError, match="schema expects"):
        store.apply(patch(("set", "plan", "gold"), anon="a"))
    with pytest.raises(PatchError, match="schema expects"):
        store.apply(patch(("set", "custom.score", "high"), anon="a"))


def test_without_a_schema_the_default_schema_checks_types() -> None:
    store, _ = make_store()
    with pytest.raises(PatchError, match=r"user\.gender"):
        store.apply(patch(("set", "gender", "robot"), anon="a"))
    store.apply(patch(("set", "gender", "female"), ("set", "custom.anything", [1, "x"]), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["gender"] == "female"


def test_validate_false_checks_only_structure() -> None:
    store, _ = make_store(validate=False)
    store.apply(patch(("set", "gender", "robot"), ("set", "birthDate", 5), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["gender"] == "robot"
