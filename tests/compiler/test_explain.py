"""`Query.explain`: clause values, spans, reads, the deciding clause, rendering."""

from __future__ import annotations

import json

import pytest

from segmentql.compiler import compile_query

QUERY = 'user\'s plan is "pro" and (user\'s age > 18 or session\'s landingPage matches "pricing")'


def test_clauses_reads_and_deciding_clause() -> None:
    q = compile_query(QUERY)
    e = q.explain({"user": {"plan": "pro", "age": 12}, "session": {"landingPage": "/home"}})
    assert e.value is False and not e.matched
    texts = [c.text for c in e.clauses]
    assert 'user\'s plan is "pro"' in texts
    assert "user's age > 18" in texts
    by_text = {c.text: c for c in e.clauses}
    assert by_text["user's age > 18"].value is False
    assert by_text['user\'s plan is "pro"'].reads[0].value == "pro"
    assert e.deciding is not None
    assert e.deciding.text in ("user's age > 18", "(user's age > 18 or session's landingPage "
                                                  'matches "pricing")')
    assert {r.text: r.value for r in e.reads}["user's age"] == 12


def test_short_circuited_clauses_are_marked() -> None:
    q = compile_query(QUERY)
    e = q.explain({"user": {"plan": "free"}})
    by_text = {c.text: c for c in e.clauses}
    assert by_text["user's age > 18"].evaluated is False
    assert e.deciding is not None and e.deciding.text == 'user\'s plan is "pro"'


def test_errors_are_reported_with_their_clause() -> None:
    q = compile_query(QUERY)
    e = q.explain({"user": {"plan": "pro", "age": "x"}, "session": {"landingPage": "/"}})
    assert e.error is not None and e.error.code == "Q307"
    assert e.deciding is not None and e.deciding.text == "user's age > 18"
    text = e.render()
    assert "error Q307" in text and "^^^" in text and "decided the result" in text
    assert str(e) == text


def test_json_form() -> None:
    e = compile_query(QUERY).explain({"user": {"plan": "pro", "age": 30}})
    data = json.loads(json.dumps(e.to_json()))
    assert data["value"] is True and data["matched"] is True
    assert data["clauses"][0]["span"]["start"] == 0
    assert any(r["text"] == "user's age" and r["value"] == 30 for r in data["reads"])


def test_explain_runs_on_every_corpus_case() -> None:
    import sys
    from pathlib import Path

    from segmentql.errors import EvaluationError, QueryError

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
    from conformance_corpus import load_all, parse_datetime

    explained = 0
    for case in load_all():
        data = case.data
        try:
            query = compile_query(data["query"])
        except QueryError:
            continue
        now = data.get("now")
        kwargs = {"now": parse_datetime(str(now)) if now is not None else None,
                  "time_zone": data.get("time_zone", "UTC")}
        variables = data.get("variables") or {}
        explanation = query.explain(variables, **kwargs)
        json.dumps(explanation.to_json())
        assert explanation.render()
        try:
            expected = query.evaluate(variables, **kwargs)
        except EvaluationError as exc:
            assert explanation.error is not None and explanation.error.code == exc.code
        else:
            assert explanation.value == expected or explanation.value is expected
        explained += 1
    assert explained > 1000


def test_date_parts_are_shown_as_reads() -> None:
    q = compile_query("user's birthDate's month is 5 and now's hour < 3")
    e = q.explain({"user": {"birthDate": "1990-05-17"}}, now="2024-07-24T23:30:00Z",
                  time_zone="Europe/Berlin")
    assert e.value is True
    reads = {r.text: r.value for r in e.reads}
    assert reads["user's birthDate's month"] == 5
    assert reads["now's hour"] == 1  # the wall clock in the evaluation's zone


# --- event expressions: the window, each event of the type, each criterion, the count ----

NOW = "2026-12-05T00:00:00Z"
EVENTS = [
    {"type": "pageOpened", "timestamp": "2026-12-01T10:00:00Z", "sessionId": "s1",
     "properties": {"url": "https://x/pricing", "title": "Prices"}},
    {"type": "pageOpened", "timestamp": "2026-12-04T10:00:00Z", "sessionId": "s2",
     "properties": {"url": "https://x/home", "title": "Home"}},
    {"type": "goalCompleted", "timestamp": "2026-12-04T10:00:00Z", "sessionId": "s2",
     "properties": {"goalId": "signup"}},
    {"type": "pageOpened", "timestamp": "2026-11-01T10:00:00Z", "sessionId": "s0",
     "properties": {"url": "https://x/pricing"}},
]


def _events_clause(query: str, variables: dict[str, object]) -> tuple[object, dict[str, object]]:
    e = compile_query(query).explain(variables, now=NOW)
    [clause] = [c for c in e.clauses if c.kind == "eventtest"]
    assert clause.events is not None
    return e, clause.to_json()["events"]


def test_event_expression_shows_window_events_criteria_and_count() -> None:
    query = ('user has viewed a page with url like "pricing" and title starting with "P" '
             "at least 2 times in the last 7 days")
    e, events = _events_clause(query, {"events": EVENTS})
    assert events["type"] == "pageOpened"
    assert events["window"] == "in the last 7 days"
    assert events["start"] == "2026-11-28T00:00:00+00:00"
    assert events["end"] == "2026-12-05T00:00:00+00:00"
    assert events["count"] == {"op": "at least", "times": 2, "matched": 1, "unknown": 0}
    by_index = {ev["index"]: ev for ev in events["events"]}
    assert set(by_index) == {0, 1, 3}  # the goal is another type
    assert by_index[0]["status"] == "matched"
    assert [(c["text"], c["value"]) for c in by_index[0]["criteria"]] == [
        ('url like "pricing"', True), ('title starting with "P"', True)]
    assert by_index[1]["status"] == "not matched"
    # `and` stops at the first false criterion, and the explanation says so
    assert [(c["text"], c["value"]) for c in by_index[1]["criteria"]] == [
        ('url like "pricing"', False)]
    assert by_index[3] == {"index": 3, "timestamp": "2026-11-01T10:00:00+00:00",
                           "status": "outside the window", "item": None, "criteria": []}
    text = str(e)
    assert ("events of type 'pageOpened' (in the last 7 days, from 2026-11-28T00:00:00Z to "
            "2026-12-05T00:00:00Z): 2 in the window, 3 in all") in text
    assert 'events[0] at 2026-12-01T10:00:00Z: matched (url like "pricing" => true, ' in text
    assert "events[3] at 2026-11-01T10:00:00Z: outside the window" in text
    assert "count: 1 matched, needs at least 2" in text


def test_event_expression_session_window_goal_and_products() -> None:
    _, events = _events_clause('user has completed the goal "signup" this session',
                               {"events": EVENTS, "session": {"id": "s2"}})
    assert events["window"] == "this session" and events["session"] == "s2"
    assert [(ev["index"], ev["status"]) for ev in events["events"]] == [(2, "matched")]
    _, events = _events_clause('user has completed the goal "other"',
                               {"events": EVENTS})
    assert [(ev["index"], ev["status"]) for ev in events["events"]] == [(2, "another name")]
    orders = [{"type": "orderPlaced", "timestamp": "2026-12-01T10:00:00Z", "properties": {
        "items": [{"name": "a", "price": 5}, {"name": "b", "price": 50}]}}]
    _, events = _events_clause("user has ordered a product with price greater than 10",
                               {"events": orders})
    assert [(ev["index"], ev["item"], ev["status"]) for ev in events["events"]] == [
        (0, 0, "not matched"), (0, 1, "matched")]


def test_interest_all_of_shows_interests_not_a_count() -> None:
    shown = [
        {"type": "interestShown", "timestamp": "2026-12-01T10:00:00Z", "sessionId": "s1",
         "properties": {"interests": ["shoes"]}},
        {"type": "interestShown", "timestamp": "2026-12-02T10:00:00Z", "sessionId": "s2",
         "properties": {"interests": ["hats"]}},
    ]
    e, events = _events_clause('user has shown interest in all of ["shoes", "hats"] this session',
                               {"events": shown, "session": {"id": "s2"}})
    assert [(ev["index"], ev["status"]) for ev in events["events"]] == [
        (0, "another session"), (1, "considered")]
    assert (events["interests"], events["wanted"], events["determiner"]) == (
        ["hats"], ["shoes", "hats"], "all of")
    assert 'interests shown: ["hats"], needs all of ["shoes", "hats"]' in str(e)


def test_event_expression_with_undatable_event_reports_it() -> None:
    broken = [{"type": "pageOpened", "timestamp": "not a time", "properties": {"url": "/x"}}]
    e, events = _events_clause("user has viewed a page today", {"events": broken})
    assert [ev["status"] for ev in events["events"]] == ["no timestamp"]
    assert events["count"]["unknown"] == 1
    assert e.error is not None and e.error.code == "Q310"


def test_demo_showcase_explains_its_events(capsys: pytest.CaptureFixture[str]) -> None:
    from segmentql.cli import main

    main(["demo"])
    out = capsys.readouterr().out
    showcase = out[out.index("5. Why"):out.index("6. What")]
    assert "events of type 'pageOpened' (in the last 7 days, from " in showcase
    assert "count: 2 matched, needs at least 2" in showcase
    assert 'matched (url like "blog" => true)' in showcase
