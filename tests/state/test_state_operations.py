"""Every row of the patch tables (cql-reference.md §14) plus the spec §5 decisions."""

from __future__ import annotations

from typing import Any

import pytest
from state_helpers import make_store, patch

from segmentql.state import PatchError
from segmentql.state.operations import OperationFailed, parse_path
from segmentql.state.values import MISSING


def run(op: str, current: Any, value: Any = MISSING) -> Any:
    """Apply `op` to custom attribute `x` holding `current` (or absent) and return the result."""
    store, _ = make_store()
    if current is not MISSING:
        store.apply(patch(("set", "custom.x", current), anon="a"))
    step = (op, "custom.x") if value is MISSING else (op, "custom.x", value)
    store.apply(patch(step, anon="a"))
    return store.snapshot(anonymous_id="a")["user"]["custom"].get("x", MISSING)


# (op, current, value, expected) — the rows of the tables, in their order.
ROWS = [
    # set: overwrites
    ("set", "old", "new", "new"),
    ("set", MISSING, {"a": 1}, {"a": 1}),
    # add (append; duplicates kept; a scalar becomes a list)
    ("add", None, "a", ["a"]),
    ("add", "a", None, ["a"]),
    ("add", "a", "b", ["a", "b"]),
    ("add", ["a"], None, ["a"]),
    ("add", [], "a", ["a"]),
    ("add", ["a", "b"], "a", ["a", "b", "a"]),
    # combine (set union, nulls dropped)
    ("combine", [], ["a", "a"], ["a"]),
    ("combine", ["a"], None, ["a"]),
    ("combine", ["a"], "b", ["a", "b"]),
    ("combine", ["a"], ["b", None], ["a", "b"]),
    ("combine", [None], ["a"], ["a"]),
    ("combine", None, None, []),
    ("combine", "a", ["a"], ["a"]),
    # merge (map merge, right side wins; list concat; scalar + list wraps; null + X is X)
    ("merge", {"a": 1}, {"a": 2}, {"a": 2}),
    ("merge", {"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    ("merge", [1], [2], [1, 2]),
    ("merge", ["a", "b"], ["b", "c"], ["a", "b", "b", "c"]),
    ("merge", 1, [2], [1, 2]),
    ("merge", None, {"a": 1}, {"a": 1}),
    ("merge", None, [1], [1]),
    # increment / decrement
    ("increment", None, 10, 10),
    ("increment", -1, 10, 9),
    ("decrement", None, 10, -10),
    ("decrement", 1, 10, -9),
    # remove (all equal elements, maps by deep equality)
    ("remove", ["a", "b", "c", "c"], "c", ["a", "b"]),
    ("remove", [{"k": 1}, {"k": 2}, {"k": 1}], {"k": 1}, [{"k": 2}]),
    ("remove", MISSING, "a", MISSING),
    # clear
    ("clear", "foo", MISSING, None),
    ("clear", ["a"], MISSING, []),
    ("clear", [], MISSING, []),
    ("clear", None, MISSING, None),
    ("clear", MISSING, MISSING, MISSING),
    # unset
    ("unset", "foo", MISSING, MISSING),
    ("unset", MISSING, MISSING, MISSING),
]


@pytest.mark.parametrize(("op", "current", "value", "expected"), ROWS)
def test_patch_table_row(op: str, current: Any, value: Any, expected: Any) -> None:
    assert run(op, current, value) == expected


def test_set_fails_when_the_parent_is_missing() -> None:
    store, _ = make_store()
    with pytest.raises(PatchError, match="parent 'pet' does not exist"):
        store.apply(patch(("set", "custom.pet.name", "Rex"), anon="a"))


def test_set_fails_when_the_parent_is_not_a_container() -> None:
    store, _ = make_store()
    store.apply(patch(("set", "custom.pet", "dog"), anon="a"))
    with pytest.raises(PatchError, match="is a string, not a map or list"):
        store.apply(patch(("set", "custom.pet.name", "Rex"), anon="a"))


def test_increment_and_decrement_default_to_one() -> None:
    store, _ = make_store()
    store.apply(patch(("increment", "custom.n"), ("increment", "custom.n"),
                      ("decrement", "custom.m"), anon="a"))
    custom = store.snapshot(anonymous_id="a")["user"]["custom"]
    assert (custom["n"], custom["m"]) == (2, -1)


def test_remove_of_an_equal_scalar_leaves_null_and_of_another_keeps_it() -> None:
    assert run("remove", "a", "a") is None
    assert run("remove", "a", "b") == "a"


def test_remove_distinguishes_booleans_from_numbers() -> None:
    assert run("remove", [1, True, 1.0], 1) == [True]


def test_clear_of_a_map_empties_it() -> None:
    assert run("clear", {"a": 1}) == {}


def test_merge_rejects_a_scalar_value_and_map_list_mixes() -> None:
    for current, value in ((MISSING, 5), ({"a": 1}, [1]), ([1], {"a": 1}), (1, {"a": 1})):
        with pytest.raises(PatchError, match="merge"):
            run("merge", current, value)


def test_add_to_a_map_is_refused() -> None:
    with pytest.raises(PatchError, match="cannot add to a map"):
        run("add", {"a": 1}, "b")


def test_indexes_in_paths() -> None:
    store, _ = make_store()
    store.apply(patch(("set", "custom.pets", [{"name": "Rex"}, {"name": "Tom"}]), anon="a"))
    store.apply(patch(("set", "custom.pets[1].name", "Felix"),
                      ("set", "custom.pets[2]", {"name": "Bo"}),
                      ("unset", "custom.pets[0]"), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["custom"]["pets"] == [
        {"name": "Felix"}, {"name": "Bo"}]
    with pytest.raises(PatchError, match="past the end"):
        store.apply(patch(("set", "custom.pets[5]", 1), anon="a"))
    with pytest.raises(PatchError, match="not a map"):
        store.apply(patch(("set", "custom.pets.x", 1), anon="a"))


@pytest.mark.parametrize(
    ("text", "segments"),
    [("a", ("a",)), ("custom.pet", ("custom", "pet")), ("a.b[0].c", ("a", "b", 0, "c")),
     ("a[1][2]", ("a", 1, 2))],
)
def test_parse_path(text: str, segments: tuple[Any, ...]) -> None:
    assert parse_path(text) == segments


@pytest.mark.parametrize("text", ["", " ", "a.", ".a", "a..b", "[0]", "a[x]", "a[-1]", "a b.c]"])
def test_malformed_paths_are_refused(text: str) -> None:
    with pytest.raises(OperationFailed):
        parse_path(text)


def test_a_patch_error_names_the_operation_index_path_and_reason() -> None:
    store, _ = make_store()
    store.apply(patch(("set", "email", "j@acme.com"), anon="a"))
    with pytest.raises(PatchError) as info:
        store.apply(patch(("set", "custom.a", 1), ("increment", "email", 1), anon="a"))
    error = info.value
    assert (error.operation_index, error.op, error.path) == (1, "increment", "email")
    assert error.reason == "cannot increment a string ('j@acme.com')"
    assert str(error) == "event 0: operation 1 (increment 'email'): " + error.reason
    assert "a" not in store.snapshot(anonymous_id="a")["user"]["custom"]
