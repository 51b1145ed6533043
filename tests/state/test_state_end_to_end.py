"""Events in, snapshot out, audiences evaluated on it (needs the compiler and parser)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from state_helpers import anonymize, identify, make_store, pageview, patch

compiler = pytest.importorskip("segmentql.compiler")
pytest.importorskip("segmentql.syntax.parser")


def matches(query: str, snapshot: object, **kw: object) -> bool:
    return bool(compiler.compile_query(query).matches(snapshot, **kw))


def test_anonymous_browsing_then_identify_then_patch_then_query() -> None:
    store, clock = make_store()
    store.apply([pageview("https://shop/blog", anon="d"), pageview("https://shop/pricing", anon="d")])
    audience = ('user is identified and user\'s plan is "pro" and '
                'user has viewed a page with url like "pricing"')
    assert not matches(audience, store.snapshot(anonymous_id="d"), now=clock.now)
    assert matches("user is anonymous", store.snapshot(anonymous_id="d"))
    store.apply(identify("u-1", "d", email="ada@acme.com"))
    assert not matches(audience, store.snapshot(anonymous_id="d"), now=clock.now)
    store.apply(patch(("set", "plan", "pro"), user="u-1"))
    snapshot = store.snapshot(anonymous_id="d", page={"url": "https://shop/pricing"})
    assert matches(audience, snapshot, now=clock.now)
    assert matches('user\'s email ends with "@acme.com"', snapshot)
    assert matches('page\'s url matches "pricing"', snapshot)


def test_shared_device_with_anonymize() -> None:
    store, _ = make_store()
    store.apply([identify("alice", "kiosk", plan="pro"), anonymize("kiosk")])
    snapshot = store.snapshot(anonymous_id="kiosk")
    assert matches("user is anonymous", snapshot)
    assert not matches('user\'s plan is "pro"', snapshot)
    store.apply(identify("bob", "kiosk"))
    assert not matches('user\'s plan is "pro"', store.snapshot(anonymous_id="kiosk"))
    assert matches('user\'s plan is "pro"', store.snapshot(user_id="alice"))


def test_session_expiry_changes_session_is_starting_and_user_is_returning() -> None:
    store, clock = make_store()
    store.apply(pageview("/1", anon="d"))
    assert matches("session is starting", store.snapshot(anonymous_id="d"))
    clock.advance(minutes=5)
    store.apply(pageview("/2", anon="d"))
    assert not matches("session is starting", store.snapshot(anonymous_id="d"))
    assert matches("session's duration is at least 5 minutes", store.snapshot(anonymous_id="d"))
    assert matches("session's start is before now", store.snapshot(anonymous_id="d"),
                   now=clock.now)
    assert not matches("user is returning", store.snapshot(anonymous_id="d"))
    clock.now += timedelta(minutes=30)
    store.apply(pageview("/3", anon="d"))
    assert matches("session is starting", store.snapshot(anonymous_id="d"))
    assert matches("user is returning", store.snapshot(anonymous_id="d"))


def test_a_deleted_user_no_longer_matches() -> None:
    store, _ = make_store()
    store.apply([identify("u", "d", plan="pro"), pageview("/pricing", anon="d")])
    audience = 'user\'s plan is "pro" and user has viewed a page with url like "pricing"'
    assert matches(audience, store.snapshot(user_id="u"))
    store.apply({"type": "delete_user", "user_id": "u"})
    assert not matches(audience, store.snapshot(user_id="u"))
    assert not matches(audience, store.snapshot(anonymous_id="d"))


def test_custom_session_attributes_shadow_predefined_ones_in_queries() -> None:
    store, _ = make_store()
    store.apply(pageview("https://x/landing", anon="d"))
    assert matches('session\'s landingPage matches "landing"', store.snapshot(anonymous_id="d"))
    store.apply(patch(("set", "landingPage", "shadow"), ("set", "plan", "premium"),
                      anon="d", target="session"))
    snapshot = store.snapshot(anonymous_id="d")
    assert matches('session\'s landingPage is "shadow"', snapshot)
    assert matches('session\'s plan is "premium"', snapshot)


def test_account_traits_reach_queries() -> None:
    store, _ = make_store()
    store.apply({"type": "group", "group_id": "acme", "user_id": "u", "traits": {"plan": "ent"}})
    assert matches('account\'s plan is "ent"', store.snapshot(user_id="u"))


def test_user_is_anonymous_on_an_anonymous_device() -> None:
    store, _ = make_store()
    store.apply(pageview("/", anon="d"))
    assert matches("user is anonymous", store.snapshot(anonymous_id="d"))
    store.apply(identify("u", "d"))
    assert not matches("user is anonymous", store.snapshot(anonymous_id="d"))


def test_tracked_and_identity_events_feed_user_has_expressions() -> None:
    store, clock = make_store()
    store.apply([pageview("/a", anon="d"), identify("u", "d"),
                 {"type": "track", "anonymous_id": "d", "event": "orderPlaced",
                  "properties": {"orderId": "o1", "total": 50}}])
    snapshot = store.snapshot(user_id="u")
    assert matches("user has signed in", snapshot, now=clock.now)
    assert matches("user has viewed a page this session", snapshot, now=clock.now)
    assert matches("user has placed an order with total greater than 20", snapshot, now=clock.now)
    assert not matches("user has viewed a page at least 2 times", snapshot, now=clock.now)
    clock.advance(hours=1)
    store.apply(pageview("/b", anon="d"))
    later = store.snapshot(user_id="u")
    assert matches("user has viewed a page at least 2 times", later, now=clock.now)
    assert not matches("user has placed an order this session", later, now=clock.now)
