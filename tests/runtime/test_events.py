"""Event expressions: phrases, criteria, counts, windows, sessions."""

from __future__ import annotations

from typing import Any

from segmentql.compiler import compile_query

NOW = "2024-07-24T12:00:00Z"


def ev(kind: str, ts: str, sid: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": ts, "sessionId": sid, "properties": props}


EVENTS = [
    ev("pageOpened", "2024-07-01T09:00:00Z", "s1", url="/pricing"),
    ev("orderPlaced", "2024-07-01T09:30:00Z", "s1", total=50,
       items=[{"name": "Shoe", "price": 40}, {"name": "Sock", "price": 10}]),
    ev("pageOpened", "2024-07-23T10:00:00Z", "s2", url="/Pricing/team"),
    ev("interestShown", "2024-07-23T10:05:00Z", "s2", interests=["shoes"]),
    ev("interestShown", "2024-07-24T08:00:00Z", "s3", interests=["socks", "hats"]),
    ev("eventOccurred", "2024-07-24T09:00:00Z", "s3", name="product-rated",
       details={"rating": 5}),
    ev("goalCompleted", "2024-07-24T09:10:00Z", "s3", goalId="signup"),
]


def run(text: str, session: str = "s3", time_zone: str = "UTC") -> Any:
    variables = {"events": EVENTS, "session": {"id": session}}
    return compile_query(text).evaluate(variables, now=NOW, time_zone=time_zone)


def test_counts_and_criteria() -> None:
    assert run('user has viewed a page with url like "pricing" exactly 2 times') is True
    assert run('user has viewed a page with url like "pricing" at least 3 times') is False
    assert run("user has placed an order with total greater than 40") is True
    assert run('user has ordered a product with name "Sock" and price less than 20') is True
    assert run('user has experienced a custom event "product-rated" with details.rating 5')


def test_windows() -> None:
    assert run("user has viewed a page today") is False
    assert run("user has viewed a page yesterday") is True
    assert run("user has viewed a page in the last 7 days") is True
    assert run("user has placed an order in the last 7 days") is False
    assert run("user has placed an order this month") is True
    assert run("user has placed an order last month") is False
    assert run('user has completed goal "signup" this session') is True
    assert run('user has completed goal "signup" last session') is False
    assert run("user has viewed a page last session") is True
    assert run("user has viewed a page last session", session="s2") is True


def test_interests() -> None:
    assert run('user has shown interest in "shoes"') is True
    assert run('user has shown interest in all of ["shoes", "hats"]') is True
    assert run('user has shown interest in none of ["gloves"]') is True
    assert run('user has shown interest in either ["gloves", "socks"]') is True


def test_negation_and_missing_events() -> None:
    assert run('user has not completed goal "other"') is True
    q = compile_query("user has viewed a page")
    assert q.evaluate({}, now=NOW) is False
    assert q.matches({"events": "junk"}, now=NOW) is False
