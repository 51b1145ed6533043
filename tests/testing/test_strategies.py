"""Properties of the shipped strategies: generated queries check and run on generated profiles
and event-built snapshots; formatting round-trips; `st.from_type` finds the registrations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentql.checker import check
from segmentql.compiler import compile_query
from segmentql.schema import Schema
from segmentql.state import Identify, ProfileStore, Snapshot, Track
from segmentql.syntax.formatter import format_query
from segmentql.syntax.parser import parse
from segmentql.testing import events, profiles, queries
from segmentql.testing.strategies import CLOCK_VARIABLES

NOW = "2024-05-01T12:00:00Z"

CUSTOM = Schema.default().extend({
    "custom": {
        "user": {
            "plan": {"enum": ["free", "pro"], "description": "The billing plan."},
            "score": {"type": "integer"},
            "tags": {"type": "list", "items": {"type": "string"}},
            "trial_end": {"type": "date"},
        },
    },
})

SCHEMAS = {"default": Schema.default(), "custom": CUSTOM}

MODEST = settings(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_generated_queries_check_and_evaluate_on_generated_profiles(name: str) -> None:
    schema = SCHEMAS[name]

    @MODEST
    @given(queries(schema), st.lists(profiles(schema), min_size=1, max_size=3))
    def run(query: str, variables: list[dict[str, Any]]) -> None:
        errors = [d for d in check(query, schema, expect=bool) if d.is_error]
        assert errors == [], query
        compiled = compile_query(query, schema, expect=bool)
        for profile in variables:
            assert isinstance(compiled.matches(profile, now=NOW), bool)

    run()


@MODEST
@given(queries(CUSTOM))
def test_formatting_round_trips(query: str) -> None:
    assert parse(format_query(query)) == parse(query)
    assert format_query(format_query(query)) == format_query(query)


@MODEST
@given(profiles(CUSTOM))
def test_profiles_fit_the_schema(variables: dict[str, Any]) -> None:
    for name, value in variables.items():
        assert name not in CLOCK_VARIABLES
        spec = CUSTOM.variable(name)
        assert spec is not None
        assert spec.type.accepts(value), (name, value)


def test_profiles_have_missing_and_null_values() -> None:
    seen = {"missing": False, "null": False}

    @settings(max_examples=60, deadline=None)
    @given(profiles())
    def run(variables: dict[str, Any]) -> None:
        user = variables.get("user")
        if "user" not in variables or (isinstance(user, dict) and "firstName" not in user):
            seen["missing"] = True
        if (user is None and "user" in variables) or (
            isinstance(user, dict) and user.get("firstName", 0) is None
        ):
            seen["null"] = True

    run()
    assert seen == {"missing": True, "null": True}


@MODEST
@given(events(CUSTOM), queries(CUSTOM, max_leaves=3))
def test_event_sequences_apply_and_snapshots_evaluate(
    batch: list[dict[str, Any]], query: str
) -> None:
    store = ProfileStore(schema=CUSTOM)
    store.apply(batch)
    for user_id in ("u1", "u2"):
        snapshot = store.snapshot(user_id=user_id)
        assert isinstance(compile_query(query, CUSTOM).matches(snapshot, now=NOW), bool)


@settings(max_examples=10, deadline=None)
@given(st.from_type(Identify), st.from_type(Track), st.from_type(Snapshot))
def test_from_type_finds_the_registered_strategies(
    identify: Identify, track: Track, snapshot: Snapshot
) -> None:
    assert identify.user_id in ("u1", "u2")
    assert track.event
    assert isinstance(snapshot, Snapshot)
    ProfileStore().apply([identify, track])
