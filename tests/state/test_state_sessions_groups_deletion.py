"""Sessions (cases 48-52), deletion (54-56) and groups (57-59) of identity-model.md §5."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from state_helpers import anonymize, identify, make_store, pageview, patch, track

from segmentql.state import StatePolicy

#: Every test here runs on each backend (memory, SQLite, PostgreSQL).
pytestmark = pytest.mark.usefixtures("store_backend")


def session_id(store, anon: str = "a") -> str:  # type: ignore[no-untyped-def]
    value: str = store.snapshot(anonymous_id=anon)["session"]["id"]
    return value


@pytest.mark.parametrize(
    ("gap", "same"),
    [(timedelta(minutes=29, seconds=59), True), (timedelta(minutes=30), False),
     (timedelta(minutes=30, seconds=1), False)],
)
def test_case48_a_gap_of_thirty_minutes_or_more_starts_a_new_session(
    gap: timedelta, same: bool
) -> None:
    store, clock = make_store()
    store.apply(pageview("/1", anon="a"))
    first = session_id(store)
    clock.now += gap
    store.apply(pageview("/2", anon="a"))
    assert (session_id(store) == first) is same
    assert store.snapshot(anonymous_id="a")["user"]["stats"]["sessions"] == (1 if same else 2)


def test_case48_the_timeout_is_configurable() -> None:
    store, clock = make_store(StatePolicy(session_timeout=timedelta(minutes=5)))
    store.apply(pageview("/1", anon="a"))
    first = session_id(store)
    clock.advance(minutes=5)
    store.apply(pageview("/2", anon="a"))
    assert session_id(store) != first


def test_case49_a_session_is_not_split_at_midnight() -> None:
    store, clock = make_store()
    clock.now = datetime(2025, 3, 1, 23, 50, tzinfo=UTC)
    store.apply(pageview("/1", anon="a"))
    first = session_id(store)
    clock.advance(minutes=20)
    store.apply(pageview("/2", anon="a"))
    assert session_id(store) == first


def test_case50_a_campaign_change_does_not_start_a_session() -> None:
    store, clock = make_store()
    store.apply(pageview("/?utm_campaign=a", anon="a", campaign="a"))
    first = session_id(store)
    clock.advance(minutes=1)
    store.apply(pageview("/?utm_campaign=b", anon="a", campaign="b"))
    assert session_id(store) == first


def test_case51_maximum_session_length() -> None:
    store, clock = make_store(StatePolicy(session_max_length=timedelta(hours=24)))
    store.apply(pageview("/", anon="a"))
    first = session_id(store)
    for _ in range(95):  # activity every 15 minutes: 23h45m
        clock.advance(minutes=15)
        store.apply(pageview("/", anon="a"))
    assert session_id(store) == first
    clock.advance(minutes=15)
    store.apply(pageview("/", anon="a"))
    assert session_id(store) != first
    unlimited, clock = make_store()
    unlimited.apply(pageview("/", anon="a"))
    first = session_id(unlimited)
    for _ in range(200):
        clock.advance(minutes=15)
        unlimited.apply(pageview("/", anon="a"))
    assert session_id(unlimited) == first


def test_case52_identity_change_ends_the_session_first_identify_keeps_it() -> None:
    store, _ = make_store()
    store.apply(pageview("/", anon="a"))
    anonymous_session = session_id(store)
    store.apply(identify("u1", "a"))
    assert session_id(store) == anonymous_session
    store.apply(identify("u2", "a"))
    switched = session_id(store)
    assert switched != anonymous_session
    store.apply(anonymize("a"))
    assert session_id(store) not in (anonymous_session, switched)


def test_session_attributes_and_stats() -> None:
    store, clock = make_store()
    store.apply(pageview("https://x/pricing", anon="a", referrer="https://google.com"))
    clock.advance(minutes=10)
    store.apply([pageview("https://x/signup", anon="a"), track("orderPlaced", anon="a")])
    session = store.snapshot(anonymous_id="a")["session"]
    assert session["landingPage"] == "https://x/pricing"
    assert session["referrer"] == "https://google.com"
    assert session["stats"] == {"pageviews": 2, "orders": 1}
    assert session["duration"].fixed_micros() == 600_000_000
    assert session["end"] - session["start"] == timedelta(minutes=10)


def test_a_new_session_starts_without_custom_attributes() -> None:
    store, clock = make_store()
    store.apply(patch(("set", "plan", "premium"), anon="a", target="session"))
    clock.advance(hours=1)
    store.apply(pageview("/", anon="a"))
    assert store.snapshot(anonymous_id="a")["session"]["custom"] == {}


def test_snapshot_with_now_shows_an_expired_session_as_new() -> None:
    store, clock = make_store()
    store.apply([pageview("/1", anon="a"), pageview("/2", anon="a")])
    assert store.snapshot(anonymous_id="a")["session"]["stats"]["pageviews"] == 2
    later = clock.now + timedelta(minutes=31)
    assert store.snapshot(anonymous_id="a", now=later)["session"]["stats"]["pageviews"] == 0


def test_tracked_events_carry_their_session_id() -> None:
    store, clock = make_store()
    store.apply(pageview("/1", anon="a"))
    clock.advance(hours=1)
    store.apply(pageview("/2", anon="a"))
    events = store.snapshot(anonymous_id="a")["events"]
    assert events[0]["sessionId"] != events[1]["sessionId"]
    assert events[1]["sessionId"] == session_id(store)


def test_events_beyond_the_limit_are_trimmed_and_reported() -> None:
    store, _ = make_store(StatePolicy(max_events_per_profile=3))
    result = store.apply([pageview(f"/{n}", anon="a") for n in range(5)])
    assert [n.kind for n in result.notices] == ["events-trimmed"]
    assert "the 2 oldest were dropped" in result.notices[0].message
    snap = store.snapshot(anonymous_id="a")
    assert [e["properties"]["url"] for e in snap["events"]] == ["/2", "/3", "/4"]
    assert snap["user"]["stats"]["pageviews"] == 5


# --- deletion ----------------------------------------------------------------------------------


def test_delete_user_removes_profile_identifiers_events_and_sessions() -> None:
    store, _ = make_store()
    store.apply([pageview("/", anon="a"), identify("u", "a", plan="pro")])
    store.apply({"type": "delete_user", "user_id": "u"})
    assert len(store.state.profiles) == 0
    assert "u" not in store.state.users and "a" not in store.state.devices
    assert store.snapshot(user_id="u")["user"] == {
        "id": "u", "custom": {}, "stats": {"sessions": 0, "pageviews": 0, "orders": 0}}
    assert "id" not in store.snapshot(anonymous_id="a")["user"]


def test_case54_an_event_after_deletion_makes_a_new_profile_unless_suppressed() -> None:
    store, _ = make_store()
    store.apply([identify("u", "a", plan="pro"), {"type": "delete_user", "user_id": "u"}])
    store.apply(patch(("set", "x", 1), user="u"))
    assert store.snapshot(user_id="u")["user"]["custom"] == {"x": 1}

    store.apply({"type": "delete_user", "user_id": "u", "suppress": True})
    result = store.apply([patch(("set", "y", 1), user="u"), identify("u", "b")])
    assert result.applied == 0
    assert [d.reason for d in result.dropped] == ["suppressed", "suppressed"]
    assert store.snapshot(user_id="u")["user"]["custom"] == {}


def test_case55_unsuppress_accepts_later_events_without_restoring_old_data() -> None:
    store, _ = make_store()
    store.apply([identify("u", "a", plan="pro"),
                 {"type": "delete_user", "user_id": "u", "suppress": True}])
    store.apply({"type": "unsuppress", "user_id": "u"})
    store.apply(patch(("set", "new", True), user="u"))
    assert store.snapshot(user_id="u")["user"]["custom"] == {"new": True}


def test_case56_deleting_a_merged_user_removes_its_aliases_and_devices() -> None:
    store, _ = make_store(StatePolicy(allow_explicit_merge=True))
    store.apply([identify("u1", "d1"), identify("u2", "d2"), identify("u2", "d3"),
                 {"type": "merge", "from_user_id": "u1", "into_user_id": "u2"}])
    store.apply({"type": "delete_user", "user_id": "u2"})
    for who in ("u1", "u2"):
        assert who not in store.state.users
    for device in ("d1", "d2", "d3"):
        assert device not in store.state.devices


def test_delete_by_anonymous_id_and_of_an_unknown_id() -> None:
    store, _ = make_store()
    store.apply(pageview("/", anon="a"))
    store.apply({"type": "delete_user", "anonymous_id": "a"})
    assert store.snapshot(anonymous_id="a")["events"] == []
    result = store.apply({"type": "delete_user", "user_id": "ghost"})
    assert [n.kind for n in result.notices] == ["unknown-user"]


def test_deleting_one_kiosk_user_leaves_the_device_for_the_next() -> None:
    store, _ = make_store()
    store.apply([identify("u1", "k"), identify("u2", "k")])
    store.apply({"type": "delete_user", "user_id": "u1"})
    assert store.snapshot(anonymous_id="k")["user"]["id"] == "u2"


# --- groups ---------------------------------------------------------------------------------------


def group(gid: str, who: str = "u", **traits: object) -> dict[str, object]:
    return {"type": "group", "group_id": gid, "user_id": who, "traits": traits}


def test_case57_group_traits_merge_shallowly_and_null_overwrites() -> None:
    store, _ = make_store()
    store.apply([group("g", name="Acme", plan="ent"), group("g", plan="ent+", size=None)])
    assert store.snapshot(user_id="u")["account"] == {
        "id": "g", "name": "Acme", "plan": "ent+", "size": None}


def test_case58_grouping_again_switches_the_account() -> None:
    store, _ = make_store()
    store.apply([group("10", plan="a"), group("15", plan="b")])
    assert store.snapshot(user_id="u")["account"]["id"] == "15"


def test_case59_several_groups_are_kept_and_traits_are_shared() -> None:
    store, _ = make_store()
    store.apply([group("g1", plan="a"), group("g2", plan="b"), group("g1", who="v", seats=5)])
    assert store.snapshot(user_id="u")["account"] == {"id": "g2", "plan": "b"}
    assert store.snapshot(user_id="v")["account"] == {"id": "g1", "plan": "a", "seats": 5}
    store.apply(group("g1"))
    assert store.snapshot(user_id="u")["account"] == {"id": "g1", "plan": "a", "seats": 5}
