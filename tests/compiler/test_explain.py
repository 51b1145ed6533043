"""`Query.explain`: clause values, spans, reads, the deciding clause, rendering."""

from __future__ import annotations

import json

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
