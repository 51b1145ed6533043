"""Property: on generated profiles and queries, DuckDB over the layout answers exactly as
the evaluator's `matches` (modest examples in CI, thousands under --deep)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

import segmentql
from segmentql.sql import SqlCompileError, matches_many

NOW = "2024-07-01T12:00:00Z"
KEYS = ["plan", "Plan", "PLAN", "tags", "score", "email"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                    st.sampled_from([0.5, 1.0, -2.5]), st.sampled_from(["pro", "PRO", "", "a",
                                                                        "free", "Pro plan"]))
values = st.one_of(scalars, st.lists(scalars, max_size=3))
objects = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)


def _user(own: dict, custom: dict | None) -> dict:  # type: ignore[type-arg]
    # Spellings may clash between `custom` and the user itself (custom first, then ignoring
    # case, is the rule both sides follow).
    return own if custom is None else {**own, "custom": custom}


users = st.builds(_user, objects, st.one_of(st.none(), objects))
events = st.lists(st.fixed_dictionaries({
    "type": st.sampled_from(["pageOpened", "orderPlaced"]),
    "timestamp": st.sampled_from(["2024-06-30T10:00:00Z", "2024-06-01T00:00:00Z", "bad"]),
    "properties": st.dictionaries(st.sampled_from(["url", "total"]),
                                  st.one_of(st.sampled_from(["/pricing", "/home"]),
                                            st.integers(0, 100)), max_size=2)}), max_size=4)
rows = st.lists(st.builds(lambda u, e: {"user": u, "events": e}, users, events),
                min_size=1, max_size=6)

literal = st.one_of(st.sampled_from(['"pro"', '"a"', '""', "1", "0.5", "true", "null"]))
attribute = st.sampled_from(["user's plan", "user's PLAN", "user's tags", "user's score",
                             "user's email"])
atom = st.one_of(
    st.builds(lambda a, op, v: f"{a} {op} {v}", attribute,
              st.sampled_from(["is", "is not", "==", "!=", ">", "<=", "contains"]), literal),
    st.builds(lambda a, op, v: f"{a} {op} {v}", attribute,
              st.sampled_from(["starts with", "ends with", "is like", "matches"]),
              st.sampled_from(['"p"', '"o"', '"PRO"', '""'])),
    st.builds(lambda a: f"{a} is empty", attribute),
    st.builds(lambda a: f"{a} is defined", attribute),
    st.builds(lambda a, v: f"{a} is in [{v}, \"free\"]", attribute, literal),
    st.builds(lambda a: f"some x in {a} satisfies x is \"a\"", attribute),
    st.builds(lambda w, n: f"user has viewed a page with url like \"pricing\" at least {n} "
              f"times{w}", st.sampled_from(["", " in the last 7 days", " this month"]),
              st.integers(0, 2)),
)
queries = st.recursive(atom, lambda inner: st.one_of(
    st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
    st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    st.builds(lambda a: f"not ({a})", inner)), max_leaves=4)


@given(queries, rows)
def test_duckdb_matches_the_evaluator(query: str, profiles: list[dict]) -> None:  # type: ignore[type-arg]
    try:
        compiled = segmentql.compile(query)
    except segmentql.QueryError:
        return
    try:
        got = matches_many(query, profiles, now=NOW)
    except SqlCompileError:
        return
    expected = [compiled.matches(p, now=NOW) for p in profiles]
    assert got == expected, json.dumps(profiles)
