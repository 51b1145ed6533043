"""Property operations and ordering: edge cases 19-47 of identity-model.md §5."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from state_helpers import T0, identify, make_store, patch, track

from segmentql.state import InvalidEventError, PatchError, StatePolicy

#: Every test here runs on each backend (memory, SQLite, PostgreSQL).
pytestmark = pytest.mark.usefixtures("store_backend")


def custom_after(*ops: tuple[Any, ...], policy: StatePolicy | None = None) -> dict[str, Any]:
    store, _ = make_store(policy)
    for op in ops:
        store.apply(patch(op, anon="a"))
    result: dict[str, Any] = store.snapshot(anonymous_id="a")["user"]["custom"]
    return result


def test_case19_set_once_after_set_keeps_the_set_value() -> None:
    assert custom_after(("set", "x", 1), ("set_once", "x", 2)) == {"x": 1}


def test_case20_set_after_set_once_overwrites() -> None:
    assert custom_after(("set_once", "x", 1), ("set", "x", 2)) == {"x": 2}


def test_case21_operations_in_one_patch_apply_in_order() -> None:
    store, _ = make_store()
    store.apply(patch(("set_once", "x", 1), ("set", "x", 2), ("set", "y", 1),
                      ("set_once", "y", 2), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["custom"] == {"x": 2, "y": 1}


def test_case22_set_once_treats_a_stored_null_as_unset() -> None:
    assert custom_after(("set", "x", None), ("set_once", "x", 5)) == {"x": 5}


def test_case23_unset_then_set_once_sets() -> None:
    assert custom_after(("set", "x", 1), ("unset", "x"), ("set_once", "x", 3)) == {"x": 3}


def test_case24_increment_of_a_missing_property_starts_at_zero() -> None:
    assert custom_after(("increment", "visits", 3)) == {"visits": 3}


def test_case25_increment_of_a_string_rejects_the_whole_patch() -> None:
    store, _ = make_store()
    store.apply(patch(("set", "score", "100"), anon="a"))
    with pytest.raises(PatchError, match=r"cannot increment a string \('100'\)"):
        store.apply(patch(("set", "other", 1), ("increment", "score", 1), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["custom"] == {"score": "100"}


@pytest.mark.parametrize("amount", ["5", math.nan, math.inf, -math.inf, True, [1], {"n": 1}])
def test_case26_increment_by_a_non_number_is_rejected(amount: Any) -> None:
    store, _ = make_store()
    with pytest.raises(PatchError, match="the amount must be a finite number"):
        store.apply(patch(("increment", "n", amount), anon="a"))


def test_case27_negative_increments_and_decrements() -> None:
    assert custom_after(("increment", "n", -4), ("decrement", "m", 10),
                        ("decrement", "n", -1)) == {"n": -3, "m": -10}


def test_case28_float_accumulation_is_stable() -> None:
    ops = [("increment", "x", 0.1) for _ in range(10)]
    assert custom_after(*ops) == {"x": 1.0}
    assert custom_after(("increment", "y", 0.1), ("increment", "y", 0.2)) == {"y": 0.3}
    assert custom_after(("increment", "z", 1), ("increment", "z", 2)) == {"z": 3}
    assert isinstance(custom_after(("increment", "z", 1), ("increment", "z", 2))["z"], int)


def test_case29_append_to_missing_and_to_a_scalar() -> None:
    assert custom_after(("add", "t", "v")) == {"t": ["v"]}
    assert custom_after(("set", "t", "old"), ("add", "t", "v")) == {"t": ["old", "v"]}


def test_case30_add_of_a_list_appends_each_element_and_merge_concatenates() -> None:
    assert custom_after(("add", "t", ["a", "b"]), ("add", "t", [["nested"]])) == {
        "t": ["a", "b", ["nested"]]}
    assert custom_after(("merge", "t", ["a"]), ("merge", "t", ["a", "b"])) == {
        "t": ["a", "a", "b"]}


def test_case31_union_keeps_order_dedupes_the_given_list_and_drops_nulls() -> None:
    assert custom_after(("set", "t", ["b", "a"]), ("combine", "t", ["a", "c", "c", None])) == {
        "t": ["b", "a", "c"]}
    assert custom_after(("combine", "t", [{"k": 1}, {"k": 1}])) == {"t": [{"k": 1}]}


def test_case32_remove_takes_out_all_instances() -> None:
    assert custom_after(("set", "t", ["a", "b", "a"]), ("remove", "t", "a")) == {"t": ["b"]}


def test_case33_remove_from_a_missing_or_scalar_property() -> None:
    assert custom_after(("remove", "t", "a")) == {}
    assert custom_after(("set", "t", "a"), ("remove", "t", "a")) == {"t": None}
    assert custom_after(("set", "t", "b"), ("remove", "t", "a")) == {"t": "b"}


def test_case34_attribute_names_match_case_insensitively_values_do_not() -> None:
    store, _ = make_store()
    store.apply(patch(("set", "loyaltyNumber", 1), ("set", "EMAIL", "a@b.c"), anon="a"))
    store.apply(patch(("set", "loyaltynumber", 2), ("set", "custom.LOYALTYNUMBER", 3),
                      ("set", "Email", "x@y.z"), anon="a"))
    user = store.snapshot(anonymous_id="a")["user"]
    assert user["custom"] == {"loyaltyNumber": 3}
    assert user["email"] == "x@y.z"
    assert custom_after(("combine", "bags", ["Bag", "bag"])) == {"bags": ["Bag", "bag"]}


def test_case35_clearing_all_custom_attributes_then_setting_in_one_patch() -> None:
    assert custom_after(("set", "a", 1), ("set", "b", 2)) == {"a": 1, "b": 2}
    store, _ = make_store()
    store.apply(patch(("set", "a", 1), anon="x"))
    store.apply(patch(("clear", "custom"), ("set", "b", 2), anon="x"))
    assert store.snapshot(anonymous_id="x")["user"]["custom"] == {"b": 2}
    store.apply(patch(("unset", "custom"), anon="x"))
    assert store.snapshot(anonymous_id="x")["user"]["custom"] == {}
    with pytest.raises(PatchError, match="custom attributes are a map"):
        store.apply(patch(("set", "custom", [1]), anon="x"))


def test_case36_null_and_empty_string_traits_are_stored_as_sent() -> None:
    store, _ = make_store()
    store.apply(identify("u", "d", nickname="Jo", company="Acme"))
    store.apply(identify("u", "d", nickname=None, company=""))
    user = store.snapshot(user_id="u")["user"]
    assert user["custom"]["nickname"] is None
    assert user["company"] == ""


def test_case37_nested_object_updates() -> None:
    store, _ = make_store()
    with pytest.raises(PatchError, match="parent 'address' does not exist"):
        store.apply(patch(("set", "address.city", "Paris"), anon="a"))
    store.apply(patch(("set", "address", {"city": "Lyon", "country": "FR"}), anon="a"))
    store.apply(patch(("set", "address.city", "Paris"), anon="a"))
    store.apply(patch(("merge", "address", {"postalCode": "75001"}), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["address"] == {
        "city": "Paris", "country": "FR", "postalCode": "75001"}
    store.apply(patch(("set", "address", {"city": "Nice"}), anon="a"))
    assert store.snapshot(anonymous_id="a")["user"]["address"] == {"city": "Nice"}


def test_case38_a_failing_operation_rejects_the_whole_patch_and_its_batch() -> None:
    store, _ = make_store()
    before = store.state
    with pytest.raises(PatchError) as info:
        store.apply([track("x", anon="a"),
                     patch(("set", "a", 1), ("set", "missing.parent.x", 2), anon="a")])
    assert info.value.event_index == 1
    assert info.value.operation_index == 1
    assert store.state == before
    assert store.snapshot(anonymous_id="a")["events"] == []


def test_case39_clear_versus_unset() -> None:
    assert custom_after(("set", "foo", "x"), ("clear", "foo")) == {"foo": None}
    assert custom_after(("set", "foo", [1]), ("clear", "foo")) == {"foo": []}
    assert custom_after(("set", "foo", "x"), ("unset", "foo")) == {}
    assert custom_after(("unset", "foo"), ("clear", "bar"), ("unset", "a.b[2].c")) == {}


def test_case40_custom_session_attributes_shadow_predefined_ones() -> None:
    store, _ = make_store()
    store.apply(track("pageOpened", anon="a", url="https://x/landing"))
    store.apply(patch(("set", "landingPage", "custom"), ("set", "plan", "premium"),
                      anon="a", target="session"))
    session = store.snapshot(anonymous_id="a")["session"]
    assert session["landingPage"] == "https://x/landing"
    assert session["custom"] == {"landingPage": "custom", "plan": "premium"}
    store.apply(patch(("unset", "custom.landingPage"), anon="a", target="session"))
    assert store.snapshot(anonymous_id="a")["session"]["custom"] == {"plan": "premium"}
    with pytest.raises(PatchError, match="session's id is managed by the store"):
        store.apply(patch(("set", "id", "x"), anon="a", target="session"))


def test_case41_limits_reject_the_patch() -> None:
    policy = StatePolicy(max_custom_attributes=3, max_list_length=2)
    store, _ = make_store(policy)
    with pytest.raises(PatchError, match="over the limit of 3 custom attributes"):
        store.apply(identify("u", "d", **{f"t{n}": n for n in range(4)}))
    with pytest.raises(PatchError, match="over the limit of 2"):
        store.apply(patch(("add", "tags", ["a", "b", "c"]), anon="d"))
    with pytest.raises(PatchError, match="max_list_length"):
        store.apply(patch(("add", "custom.tags", ["a", "b", "c"]), anon="d"))
    with pytest.raises(PatchError, match="max_list_length"):
        store.apply(patch(("add", "tags", ["a", "b", "c"]), anon="d", target="session"))
    with pytest.raises(PatchError, match="over the limit of 3 custom attributes"):
        store.apply(patch(("set", "custom", {"a": 1, "b": 2, "c": 3, "d": 4}), anon="d"))
    with pytest.raises(PatchError, match="max_list_length"):
        store.apply(patch(("merge", "custom", {"a": [1, 2, 3]}), anon="d"))
    store.apply(patch(("add", "tags", ["a", "b"]), anon="d"))
    with pytest.raises(PatchError, match="max_list_length"):
        store.apply(patch(("set", "email", ["a", "b", "c"]), anon="d"))


def test_case42_events_apply_in_arrival_order_not_by_timestamp() -> None:
    store, _ = make_store()
    later = patch(("set", "plan", "pro"), anon="a")
    later["timestamp"] = (T0 + timedelta(hours=2)).isoformat()
    earlier = patch(("set", "plan", "free"), anon="a")
    earlier["timestamp"] = (T0 + timedelta(hours=1)).isoformat()
    store.apply([later, earlier])
    assert store.snapshot(anonymous_id="a")["user"]["custom"]["plan"] == "free"


def test_case43_late_set_once_follows_arrival_order() -> None:
    store, _ = make_store()
    b = patch(("set_once", "x", "B"), anon="a")
    b["timestamp"] = (T0 + timedelta(hours=2)).isoformat()
    a = patch(("set_once", "x", "A"), anon="a")
    a["timestamp"] = (T0 + timedelta(hours=1)).isoformat()
    store.apply([b, a])
    assert store.snapshot(anonymous_id="a")["user"]["custom"]["x"] == "B"


def test_case45_a_repeated_message_id_is_dropped_and_reported() -> None:
    store, _ = make_store()
    event = {**patch(("increment", "n"), anon="a"), "messageId": "m-1"}
    first = store.apply(event)
    other = {**patch(("increment", "n"), anon="a"), "message_id": "m-2"}
    second = store.apply([event, other])
    assert (first.applied, second.applied) == (1, 1)
    assert [(d.index, d.reason) for d in second.dropped] == [(0, "duplicate")]
    assert "m-1" in second.dropped[0].message
    assert store.snapshot(anonymous_id="a")["user"]["custom"]["n"] == 2


def test_case45_a_failed_event_does_not_consume_its_message_id() -> None:
    store, _ = make_store()
    bad = {**patch(("set", "a.b", 1), anon="a"), "message_id": "m"}
    with pytest.raises(PatchError):
        store.apply(bad)
    assert store.apply({**patch(("set", "a", 1), anon="a"), "message_id": "m"}).applied == 1


def test_case46_timestamps_are_recorded_as_sent() -> None:
    store, _ = make_store()
    event = track("pageOpened", anon="a", url="/")
    event["timestamp"] = "2025-05-20T14:16:00Z"
    store.apply(event)
    assert store.snapshot(anonymous_id="a")["events"][0]["timestamp"] == (
        "2025-05-20T14:16:00+00:00")
    naive = track("pageOpened", anon="b", url="/")
    naive["timestamp"] = "2025-05-20T14:16:00"
    store.apply(naive)
    assert store.snapshot(anonymous_id="b")["events"][0]["timestamp"].endswith("+00:00")


def test_case47_identify_after_an_event_changes_the_profile_not_the_event() -> None:
    store, _ = make_store()
    store.apply([track("productViewed", anon="a", plan="free"),
                 identify("u", "a", plan="pro")])
    snap = store.snapshot(user_id="u")
    assert snap["user"]["custom"]["plan"] == "pro"
    assert snap["events"][0]["properties"] == {"plan": "free"}


def test_patch_values_must_be_json() -> None:
    store, _ = make_store()
    with pytest.raises(PatchError, match="not a finite number"):
        store.apply(patch(("set", "x", math.nan), anon="a"))
    with pytest.raises(PatchError, match="not a JSON value"):
        store.apply(patch(("set", "x", {1, 2}), anon="a"))


def test_valueless_operations_refuse_a_value() -> None:
    store, _ = make_store()
    with pytest.raises(InvalidEventError, match="'unset' takes no value"):
        store.apply(patch(("unset", "x", 5), anon="a"))


def test_read_only_user_attributes() -> None:
    store, _ = make_store()
    for path in ("id", "stats.sessions", "Stats"):
        with pytest.raises(PatchError, match="managed by the store"):
            store.apply(patch(("set", path, 1), anon="a"))


def test_old_states_are_never_mutated() -> None:
    store, _ = make_store()
    store.apply(patch(("set", "tags", ["a"]), anon="a"))
    old = store.state
    old_snapshot = store.snapshot(anonymous_id="a")
    old_snapshot["user"]["custom"]["tags"].append("mutated by caller")
    store.apply(patch(("add", "tags", "b"), anon="a"))
    assert store.state is not old
    profile = next(iter(old.profiles.values()))
    assert list(profile.attributes["custom"]["tags"]) == ["a"]
    assert store.snapshot(anonymous_id="a")["user"]["custom"]["tags"] == ["a", "b"]


def test_event_json_errors_are_clear() -> None:
    store, _ = make_store()
    with pytest.raises(InvalidEventError, match="missing 'type'"):
        store.apply({"user_id": "u"})
    with pytest.raises(InvalidEventError, match=r"operations\[0\]\.op"):
        store.apply({"type": "patch", "user_id": "u", "operations": [{"op": "explode",
                                                                      "path": "a"}]})
    with pytest.raises(InvalidEventError, match="not valid JSON"):
        store.apply('{"type": ')
    with pytest.raises(InvalidEventError, match=r"event 1: track event: unknown field 'usr'"):
        store.apply([track("x", anon="a"), {"type": "track", "event": "y", "usr": 1}])


def test_snapshot_events_are_copies() -> None:
    store, _ = make_store()
    store.apply([track("pageOpened", anon="a", url="/x"),
                 track("eventOccurred", anon="a", name="n", details={"k": [1]})])
    first = store.snapshot(anonymous_id="a")["events"]
    first[0]["properties"]["url"] = "mutated"
    first[1]["properties"]["details"]["k"].append(2)
    again = store.snapshot(anonymous_id="a")["events"]
    assert again[0]["properties"] == {"url": "/x"}
    assert again[1]["properties"] == {"name": "n", "details": {"k": [1]}}
