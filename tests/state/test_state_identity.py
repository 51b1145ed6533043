"""Identity and merging: edge cases 1-18 of identity-model.md §5 (case number in each name)."""

from __future__ import annotations

import pytest
from state_helpers import anonymize, identify, make_store, pageview, patch, track

from segmentql.state import (
    InvalidEventError,
    InvalidIdentifierError,
    MergeRefusedError,
    StatePolicy,
)

#: Every test here runs on each backend (memory, SQLite, PostgreSQL).
pytestmark = pytest.mark.usefixtures("store_backend")


def custom(store, **who):  # type: ignore[no-untyped-def]
    return store.snapshot(**who)["user"]["custom"]


def test_case01_identify_a_device_as_a_second_user_never_merges() -> None:
    store, _ = make_store()
    store.apply([pageview("/a", anon="d"), identify("u1", "d", plan="pro")])
    result = store.apply(identify("u2", "d"))
    assert [n.kind for n in result.notices] == ["user-switched"]
    u1 = store.snapshot(user_id="u1")
    u2 = store.snapshot(user_id="u2")
    assert u1["user"]["custom"] == {"plan": "pro"}
    assert u2["user"]["custom"] == {}
    assert u2["user"]["stats"]["pageviews"] == 0
    assert store.snapshot(anonymous_id="d")["user"]["id"] == "u2"
    assert u1["user"]["id"] == "u1"


def test_case02_the_same_user_on_two_devices_joins_both_anonymous_histories() -> None:
    store, _ = make_store()
    store.apply([pageview("/a", anon="d1"), identify("u", "d1")])
    store.apply([pageview("/b", anon="d2"), pageview("/c", anon="d2"), identify("u", "d2")])
    snap = store.snapshot(user_id="u")
    urls = [e["properties"]["url"] for e in snap["events"] if e["type"] == "pageOpened"]
    assert urls == ["/a", "/b", "/c"]
    assert snap["user"]["stats"]["pageviews"] == 3
    assert store.snapshot(anonymous_id="d1")["user"]["id"] == "u"
    assert store.snapshot(anonymous_id="d2")["user"]["id"] == "u"


def test_case03_events_after_logout_without_anonymize_go_to_the_last_user() -> None:
    store, _ = make_store()
    store.apply([identify("u1", "d"), pageview("/after", anon="d")])
    assert store.snapshot(user_id="u1")["user"]["stats"]["pageviews"] == 1


@pytest.mark.parametrize(
    "bad", ["null", "undefined", "0", "-1", "anonymous", "   ", "", "None", "[object Object]",
            "00000000-0000-0000-0000-000000000000", "000", "guest", "n/a"],
)
def test_case04_blocked_identifiers_are_rejected_and_change_nothing(bad: str) -> None:
    store, _ = make_store()
    store.apply(pageview("/a", anon="d"))
    before = store.state
    with pytest.raises(InvalidIdentifierError, match="invalid user id") as info:
        store.apply(identify(bad, "d"))
    assert info.value.value == bad
    assert store.state == before
    with pytest.raises(InvalidIdentifierError, match="invalid anonymous id"):
        store.apply(pageview("/a", anon=bad))


@pytest.mark.parametrize("bad", ["NaN", "nan", "UNDEFINED", '"null"', "'null'", " null",
                                 "\"'None'\"", " 'anonymous' "])
def test_case05_blocklist_ignores_case_quotes_and_surrounding_whitespace(bad: str) -> None:
    store, _ = make_store()
    with pytest.raises(InvalidIdentifierError):
        store.apply(identify(bad, "d"))


def test_case05_ids_that_merely_contain_a_blocked_word_are_accepted() -> None:
    store, _ = make_store()
    store.apply(identify("null-island", "d"))
    store.apply(identify("user_0", "e"))
    assert store.snapshot(user_id="null-island")["user"]["id"] == "null-island"


def test_case06_no_minimum_length_by_default_and_a_configurable_one() -> None:
    store, _ = make_store()
    store.apply(identify("ab", "d"))
    assert store.snapshot(user_id="ab")["user"]["id"] == "ab"
    strict, _ = make_store(StatePolicy(min_identifier_length=5))
    with pytest.raises(InvalidIdentifierError, match="shorter than the minimum length 5"):
        strict.apply(identify("abc", "device-1"))
    strict.apply(identify("abcde", "device-1"))


def test_case07_re_identifying_the_same_user_is_idempotent_but_updates_traits() -> None:
    store, _ = make_store()
    store.apply([pageview("/a", anon="d"), identify("u", "d", plan="trial")])
    first = store.snapshot(user_id="u")
    result = store.apply(identify("u", "d", plan="pro"))
    second = store.snapshot(user_id="u")
    assert result.notices == ()
    assert second["user"]["custom"]["plan"] == "pro"
    assert second["session"]["id"] == first["session"]["id"]
    assert [e["type"] for e in second["events"]] == ["pageOpened", "userSignedIn"]
    assert store.state.profiles[store.state.users["u"]].merges == 0


def test_case10_explicit_merge_is_refused_unless_the_policy_allows_it() -> None:
    store, _ = make_store()
    store.apply([identify("u1", "d1", a=1), identify("u2", "d2", b=2)])
    before = store.state
    with pytest.raises(MergeRefusedError, match="allow_explicit_merge"):
        store.apply({"type": "merge", "from_user_id": "u1", "into_user_id": "u2"})
    assert store.state == before

    allowed, _ = make_store(StatePolicy(allow_explicit_merge=True))
    allowed.apply([identify("u1", "d1", a=1, plan="x"), identify("u2", "d2", b=2, plan="y")])
    allowed.apply({"type": "merge", "fromUserId": "u1", "intoUserId": "u2"})
    for who in ({"user_id": "u1"}, {"user_id": "u2"}, {"anonymous_id": "d1"}):
        user = allowed.snapshot(**who)["user"]
        assert user["id"] == "u2"
        assert user["custom"] == {"a": 1, "b": 2, "plan": "y"}
    with pytest.raises(MergeRefusedError, match="unknown user 'ghost'"):
        allowed.apply({"type": "merge", "from_user_id": "ghost", "into_user_id": "u2"})


def test_case11_anonymous_id_cap_leaves_the_extra_device_unlinked_and_reports_it() -> None:
    store, _ = make_store(StatePolicy(max_anonymous_ids=2))
    store.apply([identify("u", "d1"), identify("u", "d2")])
    result = store.apply([pageview("/x", anon="d3"), identify("u", "d3", plan="pro")])
    assert [n.kind for n in result.notices] == ["anonymous-id-limit"]
    assert "max_anonymous_ids=2" in result.notices[0].message
    assert "id" not in store.snapshot(anonymous_id="d3")["user"]
    assert store.snapshot(user_id="u")["user"]["custom"]["plan"] == "pro"


def test_case12_a_shared_trait_never_joins_two_user_ids() -> None:
    store, _ = make_store()
    store.apply([identify("abc123", "d1", email="jane@x.com"),
                 identify("abc456", "d2", email="jane@x.com")])
    assert store.snapshot(user_id="abc123")["user"]["id"] == "abc123"
    assert store.snapshot(user_id="abc456")["user"]["id"] == "abc456"
    assert len(store.state.profiles) == 2


def test_case13_an_unmapped_device_still_resolves_its_events() -> None:
    store, _ = make_store(StatePolicy(max_anonymous_ids=1))
    store.apply([identify("u", "d1"), identify("u", "d2")])
    store.apply(pageview("/still-counted", anon="d2"))
    assert store.snapshot(anonymous_id="d2")["user"]["stats"]["pageviews"] == 1


def test_case14_merge_cap_reached_no_merge_but_the_traits_land() -> None:
    store, _ = make_store(StatePolicy(max_merges=1))
    store.apply([identify("u", "d1"), pageview("/a", anon="d2"), identify("u", "d2")])
    result = store.apply([pageview("/b", anon="d3"), identify("u", "d3", vip=True)])
    assert [n.kind for n in result.notices] == ["merge-limit"]
    user = store.snapshot(user_id="u")
    assert user["user"]["custom"]["vip"] is True
    assert user["user"]["stats"]["pageviews"] == 1
    assert store.snapshot(anonymous_id="d3")["user"]["stats"]["pageviews"] == 1


def test_case15_a_shared_kiosk_never_collapses_its_users() -> None:
    store, _ = make_store()
    for n in range(5):
        store.apply([identify(f"u{n}", "kiosk", n=n), pageview(f"/{n}", anon="kiosk")])
        if n % 2:
            store.apply(anonymize("kiosk"))
    for n in range(5):
        snap = store.snapshot(user_id=f"u{n}")
        assert snap["user"]["custom"] == {"n": n}
        assert snap["user"]["stats"]["pageviews"] == 1


def test_case16_events_arriving_after_identify_reach_the_merged_profile() -> None:
    store, _ = make_store()
    store.apply(identify("u", "d"))
    store.apply([pageview("/late", anon="d"), track("orderPlaced", anon="d", total=5)])
    user = store.snapshot(user_id="u")["user"]
    assert (user["stats"]["pageviews"], user["stats"]["orders"]) == (1, 1)


@pytest.mark.parametrize(("winner", "expected"), [("target", "A"), ("source", "B")])
def test_case18_merge_conflict_follows_the_configured_winner(winner: str, expected: str) -> None:
    store, _ = make_store(StatePolicy(merge_winner=winner))  # type: ignore[arg-type]
    store.apply([identify("u", "d1"), patch(("set", "firstName", "A"), user="u")])
    store.apply(patch(("set", "firstName", "B"), ("set", "phone", "x"), anon="d2"))
    store.apply(identify("u", "d2"))
    user = store.snapshot(user_id="u")["user"]
    assert (user["firstName"], user["phone"]) == (expected, "x")


def test_merge_fills_a_null_gap_and_adds_up_stats() -> None:
    store, _ = make_store()
    store.apply([identify("u", "d1"), patch(("set", "company", None), user="u"),
                 pageview("/1", anon="d1")])
    store.apply([patch(("set", "company", "Acme"), anon="d2"), pageview("/2", anon="d2")])
    store.apply(identify("u", "d2"))
    user = store.snapshot(user_id="u")["user"]
    assert user["company"] == "Acme"
    assert user["stats"]["pageviews"] == 2


def test_identify_traits_route_standard_and_custom_attributes() -> None:
    store, _ = make_store()
    store.apply(identify("u", "d", email="j@acme.com", FirstName="Jo", plan="pro",
                         signup_at=1704067200000))
    user = store.snapshot(user_id="u")["user"]
    assert user["email"] == "j@acme.com"
    assert user["firstName"] == "Jo"
    assert user["custom"] == {"plan": "pro", "signup_at": 1704067200000}


def test_identify_traits_may_not_touch_id_or_stats() -> None:
    store, _ = make_store()
    with pytest.raises(InvalidEventError, match="managed by the store"):
        store.apply(identify("u", "d", stats={"sessions": 9}))


def test_server_side_identify_without_a_device() -> None:
    store, _ = make_store()
    store.apply(identify("u", plan="pro"))
    assert store.snapshot(user_id="u")["user"]["custom"] == {"plan": "pro"}


def test_anonymize_gives_the_device_a_fresh_anonymous_profile() -> None:
    store, _ = make_store()
    store.apply([identify("u", "d", plan="pro"), pageview("/a", anon="d")])
    before = store.snapshot(anonymous_id="d")["session"]["id"]
    store.apply(anonymize("d"))
    snap = store.snapshot(anonymous_id="d")
    assert "id" not in snap["user"]
    assert snap["user"]["custom"] == {}
    assert snap["session"]["id"] != before
    assert store.snapshot(user_id="u")["events"][-1]["type"] == "userSignedOut"


def test_anonymize_of_an_anonymous_device_is_a_reported_no_op() -> None:
    store, _ = make_store()
    store.apply(pageview("/a", anon="d"))
    result = store.apply(anonymize("d"))
    assert [n.kind for n in result.notices] == ["already-anonymous"]
    assert store.snapshot(anonymous_id="d")["user"]["stats"]["pageviews"] == 1


def test_an_event_without_any_id_is_invalid() -> None:
    store, _ = make_store()
    with pytest.raises(InvalidEventError, match="needs an anonymous_id or a user_id"):
        store.apply(track("x"))


def test_snapshot_of_unknown_ids_is_an_empty_profile() -> None:
    store, _ = make_store()
    anon = store.snapshot(anonymous_id="nobody")
    assert anon["user"] == {"custom": {}, "stats": {"sessions": 0, "pageviews": 0, "orders": 0}}
    assert anon["events"] == [] and anon["account"] == {}
    known = store.snapshot(user_id="nobody")
    assert known["user"]["id"] == "nobody"
    assert "id" not in store.snapshot(user_id="null")["user"]
