"""Prepared variables (`segmentql.prepare`, store snapshots): the same results as the plain
mapping on every path, a read-only mapping equal to what was given, and views that let the
generated code skip its per-call checks."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import segmentql
from segmentql.compiler import compile_audiences
from segmentql.runtime.prepared import FOLDED, Prepared, is_view, original, prepare, view_of
from segmentql.state import ProfileStore

QUERIES = [
    'user\'s plan is "pro"',
    'user\'s PLAN is "pro"',
    'user\'s Plan is not "free"',
    'user\'s firstName is "Ann" and user\'s FIRSTNAME is "Ann"',
    "user's age >= 18",
    'user\'s name is "Ann Lee"',
    'user\'s referrer is "partner" or session\'s pageviews > 10',
    'user\'s interests include "golf"',
    'user\'s address\'s city is "Berlin"',
    'user\'s custom\'s plan is "pro"',
    "user is empty",
    "user's custom is empty",
    'user["plan"] is "pro"',
    'session\'s Device is "desktop"',
]

PROFILES: list[dict[str, Any]] = [
    {"user": {"plan": "free", "custom": {"Plan": "pro"}}},
    {"user": {"PLAN": "free", "custom": {"plan": "pro", "firstName": "Ann"}}},
    {"user": {"plan": "pro", "firstName": "Ann", "lastName": "Lee", "age": 30}},
    {"user": {"plan": None, "Plan": "pro"}},  # two spellings: no view, plain rules
    {"user": {"custom": {"plan": "pro", "PLAN": "x"}}},  # ambiguous custom: no view
    {"user": {"birthDate": "2000-01-01", "custom": {"age": None}}},  # virtual age
    {"user": {"age": None, "custom": {"AGE": 40}}},
    {"user": {"custom": {"referrer": "partner"}}, "session": {"pageviews": 3}},
    {"user": {"interests": ["tennis"], "custom": {"Interests": ["golf"]}}},
    {"user": {"address": {"CITY": "Berlin"}}},
    {"user": {"custom": {}}},
    {"user": {"custom": "not a map", "plan": "pro"}},
    {"user": {"Custom": {"plan": "pro"}, "plan": "free"}},
    {"user": {}},
    {"user": "pro"},
    {"user": None},
    {"User": {"plan": "pro"}},
    {"session": {"device": "mobile", "custom": {"DEVICE": "desktop"}}},
    {},
]


def _forms(profile: dict[str, Any]) -> list[Any]:
    """`profile` prepared (a plain dict of views) and as a `Prepared` (a store snapshot's
    class)."""
    return [segmentql.prepare(profile), Prepared(profile)]


@pytest.mark.parametrize("text", QUERIES)
def test_prepared_variables_give_the_plain_results(text: str) -> None:
    query = segmentql.compile(text)
    for profile, prepared in [(p, f) for p in PROFILES for f in _forms(p)]:
        now = "2024-06-01T00:00:00Z"
        assert query.matches(prepared) is query.matches(profile), (text, profile)
        assert query.matches(prepared, now=now) is query.matches(profile, now=now)
        try:
            expected: Any = query.evaluate(profile, now=now)
        except segmentql.EvaluationError as exc:
            expected = exc.code
        try:
            got: Any = query.evaluate(prepared, now=now)
        except segmentql.EvaluationError as exc:
            got = exc.code
        assert got == expected, (text, profile)
        explained = query.explain(prepared, now=now).to_json()
        assert explained == query.explain(profile, now=now).to_json(), (text, profile)


def test_audience_sets_read_prepared_variables_like_plain_ones() -> None:
    audiences = compile_audiences({f"q{i}": text for i, text in enumerate(QUERIES)})
    for profile in PROFILES:
        for prepared in _forms(profile):
            assert audiences.evaluate(prepared) == audiences.evaluate(profile)


def test_the_case_of_a_name_never_changes_the_result() -> None:
    profile = {"user": {"plan": "free", "custom": {"Plan": "pro"}}}
    for text in ("user's plan", "user's PLAN", "user's Plan"):
        query = segmentql.compile(text)
        assert query.evaluate(profile) == "pro"
        for prepared in _forms(profile):
            assert query.evaluate(prepared) == "pro"


def test_a_view_resolves_custom_in_front_and_folds_names() -> None:
    user = {"plan": "free", "firstName": "Ann", "age": None, "custom": {"Plan": "pro", "x": None}}
    view = view_of(user)
    assert view == {"plan": "pro", "Plan": "pro", "firstName": "Ann", "firstname": "Ann",
                    "age": None, FOLDED: user}
    assert is_view(view) and original(view) is user and original(user) is user
    assert view_of({"plan": 1, "PLAN": 2}) is None
    assert view_of({"custom": {"a": 1, "A": 2}}) is None
    assert view_of(["not", "a", "dict"]) is None


def test_prepare_gives_a_plain_dict_of_views() -> None:
    given = {"user": {"plan": "free", "custom": {"Plan": "pro"}}, "n": 3,
             "session": {"a": 1, "A": 2}}
    prepared = prepare(given)
    assert prepared.__class__ is dict and list(prepared) == ["user", "n", "session"]
    assert is_view(prepared["user"]) and original(prepared["user"]) is given["user"]
    assert prepared["n"] == 3 and prepared["session"] is given["session"]  # ambiguous: no view
    assert prepare(prepared) == prepared
    assert prepare(Prepared(given)) == prepared
    query = segmentql.compile("user is not empty and session's a is 1 and user's PLAN is \"pro\"")
    assert query.matches(prepared) is True
    assert segmentql.compile("user's custom's Plan is \"pro\"").matches(prepared) is True


def test_the_mapping_face_of_a_prepared_is_the_variables_as_given() -> None:
    given = {"user": {"plan": "free", "custom": {"Plan": "pro"}}, "n": 3}
    prepared = Prepared(given)
    assert prepared == given and dict(prepared) == given and prepared.copy() == given
    assert prepared["user"] is given["user"] and prepared.get("user") is given["user"]
    assert list(prepared) == ["user", "n"] and len(prepared) == 2 and "user" in prepared
    assert list(prepared.items()) == list(given.items())
    assert json.loads(json.dumps(prepared)) == given
    assert pickle.loads(pickle.dumps(prepared)) == given
    assert repr(prepared) == f"Prepared({given!r})"
    with pytest.raises(TypeError):
        prepared["user"] = {}
    with pytest.raises(TypeError):
        prepared.update(n=4)


def test_store_snapshots_carry_views() -> None:
    store = ProfileStore()
    store.apply([{"type": "identify", "user_id": "u1",
                  "traits": {"plan": "pro", "email": "a@acme.com", "interests": ["golf"]}}])
    snapshot = store.snapshot(user_id="u1")
    assert isinstance(snapshot, Prepared)
    assert "custom" in snapshot["user"]  # the store's layout, as before
    assert is_view(dict.get(snapshot, "user"))  # what the generated code reads
    query = segmentql.compile('user\'s plan is "pro" and user\'s PLAN is "pro"')
    assert query.matches(snapshot) is True
    assert query.matches(snapshot.copy()) is True
    count = len(store.snapshot(user_id="u1")["events"])
    assert query.matches(prepare(snapshot)) is True
    # events not built yet: the prepared form reads them through the snapshot
    assert segmentql.compile(f"count of events is {count}").matches(prepare(snapshot)) is True
    assert segmentql.compile(f"count of events is {count}").matches(snapshot) is True
    assert snapshot.to_json()["user"]["custom"] == {"plan": "pro"}
