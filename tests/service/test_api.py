"""The service's endpoints, in process over ASGI: key rules, limits, bad input, decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentql.service import Settings, create_app
from segmentql.service.app import ServiceError
from segmentql.state import ProfileStore

from .support import CLIENT_KEY, EXAMPLES, KEYS_ENV, SERVER_KEY, Client, bearer, make_client, signed

pytestmark = pytest.mark.service

SERVER = bearer(SERVER_KEY)
CLIENT = bearer(CLIENT_KEY)
AUDIENCES = str(EXAMPLES / "audiences.yaml")
SCHEMA = str(EXAMPLES / "schema.yaml")
NOW = "2026-11-22T18:05:00+00:00"


def events() -> list[dict[str, object]]:
    return [json.loads(line) for line in (EXAMPLES / "events.jsonl").read_text().splitlines()
            if line]


def problem(response: object, status: int, code: str) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    return dict(body)


def test_events_in_decisions_out_with_explanations() -> None:
    client = make_client()
    applied = client.post("/v1/events", json={"events": events()}, headers=SERVER)
    assert applied.status_code == 200 and applied.json()["applied"] == len(events())
    request = json.loads((EXAMPLES / "request.json").read_text())
    decided = client.post(
        "/v1/decide",
        json={"user_id": "u-42", "context": request, "now": NOW, "explain": True,
              "audiences": ["engaged_readers", "big_carts", "acme_employees"]},
        headers=SERVER,
    ).json()
    # the same answers as the library gives on the same snapshot (see `segmentql demo`)
    store = ProfileStore()
    store.apply(events())
    from segmentql.compiler import compile_query
    from segmentql.schema import Schema

    schema = Schema.load(SCHEMA)
    import yaml

    texts = yaml.safe_load(Path(AUDIENCES).read_text())
    snapshot = store.snapshot(user_id="u-42", now=__import__("datetime").datetime.fromisoformat(
        NOW), **request)
    for name in ("engaged_readers", "big_carts", "acme_employees"):
        assert decided["audiences"][name] is compile_query(texts[name], schema).matches(
            snapshot, now=NOW)
    assert decided["matched"] == [n for n, hit in decided["audiences"].items() if hit]
    assert decided["matched"], "the example user is in some of these audiences"
    assert decided["explanations"]["big_carts"]["matched"] is True
    assert decided["explanations"]["big_carts"]["clauses"]


def test_message_id_makes_redelivery_harmless() -> None:
    client = make_client()
    batch = {"events": [{"type": "track", "anonymous_id": "d1", "event": "pageOpened",
                         "message_id": "m-1", "properties": {"url": "https://x/pricing"}}]}
    assert client.post("/v1/events", json=batch, headers=CLIENT).json()["applied"] == 1
    again = client.post("/v1/events", json=batch, headers=CLIENT).json()
    assert again["applied"] == 0 and again["dropped"][0]["reason"] == "duplicate"


def test_a_bad_event_applies_nothing_and_names_the_event() -> None:
    client = make_client()
    batch = {"events": [
        {"type": "identify", "anonymous_id": "d1", "user_id": "u1", "traits": {"plan": "pro"}},
        {"type": "patch", "user_id": "u1", "operations": [{"op": "increment", "path": "plan",
                                                            "value": 1}]},
    ]}
    body = problem(client.post("/v1/events", json=batch, headers=SERVER), 422, "invalid-event")
    assert body["event_index"] == 1 and "events[1]" in str(body["detail"])
    profile = client.get("/v1/profiles/u1", headers=SERVER).json()
    assert profile["user"]["custom"] == {}, "nothing of the refused batch was applied"


def test_every_key_rule() -> None:
    client = make_client()
    decide = {"anonymous_id": "d1"}
    problem(client.post("/v1/decide", json=decide), 401, "missing-key")
    problem(client.post("/v1/decide", json=decide, headers={"Authorization": "Basic x"}), 401,
            "missing-key")
    problem(client.post("/v1/decide", json=decide, headers=bearer("sk_wrong")), 401,
            "unknown-key")
    assert client.post("/v1/decide", json=decide, headers=CLIENT).status_code == 200
    # client keys: no profile reads, no deletes, no inline variables, no server-only events
    problem(client.get("/v1/profiles/u1", headers=CLIENT), 403, "server-key-required")
    problem(client.delete("/v1/users/u1", headers=CLIENT), 403, "server-key-required")
    problem(client.post("/v1/decide", json={"variables": {"user": {}}}, headers=CLIENT), 403,
            "server-key-required")
    problem(client.post("/v1/evaluate", json={"query": "true", "anonymous_id": "d"},
                        headers=CLIENT), 403, "server-key-required")
    merge = {"type": "merge", "from_user_id": "a", "into_user_id": "b"}
    problem(client.post("/v1/events", json={"events": [merge]}, headers=CLIENT), 403,
            "server-key-required")
    # user ids need the user hash with a client key
    identify = {"type": "identify", "anonymous_id": "d1", "user_id": "u1"}
    problem(client.post("/v1/events", json={"events": [identify]}, headers=CLIENT), 401,
            "invalid-user-hash")
    wrong = {**identify, "user_hash": signed("u2")}
    problem(client.post("/v1/events", json={"events": [wrong]}, headers=CLIENT), 401,
            "invalid-user-hash")
    right = {**identify, "user_hash": signed("u1").upper()}
    assert client.post("/v1/events", json={"events": [right]}, headers=CLIENT).json()[
        "applied"] == 1
    problem(client.post("/v1/decide", json={"user_id": "u1"}, headers=CLIENT), 401,
            "invalid-user-hash")
    problem(client.post("/v1/decide", json={"user_id": "u1", "user_hash": "0" * 64},
                        headers=CLIENT), 401, "invalid-user-hash")
    ok = client.post("/v1/decide", json={"user_id": "u1", "user_hash": signed("u1")},
                     headers=CLIENT)
    assert ok.status_code == 200
    # server keys may do everything without a hash
    assert client.post("/v1/decide", json={"user_id": "u1"}, headers=SERVER).status_code == 200
    assert client.get("/v1/profiles/u1", headers=SERVER).json()["user"]["id"] == "u1"


def test_limits_and_bad_input() -> None:
    client = make_client(Settings(audiences=AUDIENCES, schema=SCHEMA, max_body_bytes=2000,
                                  max_batch=3, rate_limit=1, rate_burst=50))
    problem(client.post("/v1/events", content=b"{" * 3000, headers=SERVER), 413,
            "body-too-large")
    body = problem(client.post("/v1/events", content=b'{"events": [', headers={
        **SERVER, "content-type": "application/json"}), 400, "malformed-json")
    assert "not valid JSON" in str(body["detail"])
    many = {"events": [{"type": "track", "anonymous_id": "d", "event": "x"}] * 4}
    problem(client.post("/v1/events", json=many, headers=SERVER), 413, "batch-too-large")
    body = problem(client.post("/v1/decide", json={"anonymous_id": 5}, headers=SERVER), 422,
                   "invalid-request")
    assert body["errors"] == [{"field": "anonymous_id", "message": "Input should be a valid "
                                                                    "string"}]
    problem(client.post("/v1/decide", json={"anonymous_id": "d", "audiences": ["nope"]},
                        headers=SERVER), 404, "unknown-audience")
    problem(client.post("/v1/decide", json={}, headers=SERVER), 422, "invalid-request")
    problem(client.post("/v1/decide", json={"anonymous_id": "d", "time_zone": "Mars/Base"},
                        headers=SERVER), 422, "invalid-request")
    problem(client.post("/v1/nothing", json={}, headers=SERVER), 404, "not-found")
    problem(client.request("PUT", "/v1/decide", headers=SERVER), 405, "method-not-allowed")
    # the rate limit: a burst of 50, then 429 with Retry-After
    statuses = [client.post("/v1/check", json={"query": "true"}, headers=CLIENT).status_code
                for _ in range(60)]
    assert statuses.count(429) >= 1 and statuses[:40] == [200] * 40
    limited = client.post("/v1/check", json={"query": "true"}, headers=CLIENT)
    body = problem(limited, 429, "rate-limited")
    assert int(limited.headers["Retry-After"]) >= 1 and body["retry_after"] >= 1
    # another key has its own bucket
    assert client.post("/v1/check", json={"query": "true"}, headers=SERVER).status_code == 200


def test_inline_variables_evaluate_and_check() -> None:
    client = make_client()
    decided = client.post("/v1/decide", json={
        "variables": {"user": {"plan": "pro", "email": "ada@acme.com"}},
        "audiences": ["pro_users", "acme_employees", "big_carts"]}, headers=SERVER).json()
    assert decided["matched"] == ["pro_users", "acme_employees"]
    evaluated = client.post("/v1/evaluate", json={
        "query": "user's plan is \"pro\"", "variables": {"user": {"plan": "pro"}}},
        headers=SERVER).json()
    assert evaluated["matched"] is True and evaluated["explanation"]["clauses"]
    bad = problem(client.post("/v1/evaluate", json={"query": "user's plan is", "variables": {}},
                              headers=SERVER), 422, "invalid-query")
    assert bad["diagnostics"]
    checked = client.post("/v1/check", json={"query": 'user\'s emial ends with "@acme.com"'},
                          headers=CLIENT).json()
    [diagnostic] = checked["diagnostics"]
    assert diagnostic["code"] == "Q202" and diagnostic["suggestions"] == ["email"]
    assert diagnostic["span"]["start"] == 7 and diagnostic["span"]["end"] == 12
    items = client.post("/v1/complete", json={"query": "user's em", "offset": 9},
                        headers=CLIENT).json()["items"]
    assert "email" in [item["label"] for item in items]


def test_delete_with_suppression() -> None:
    client = make_client()
    client.post("/v1/events", json={"events": events()}, headers=SERVER)
    deleted = client.delete("/v1/users/u-42", params={"suppress": "true"}, headers=SERVER)
    assert deleted.json() == {"user_id": "u-42", "suppressed": True, "applied": 1,
                              "scrub_pending": False}
    emptied = client.get("/v1/profiles/u-42", headers=SERVER).json()
    assert emptied["user"]["custom"] == {} and emptied["events"] == []
    later = client.post("/v1/events", json={"events": [
        {"type": "patch", "user_id": "u-42", "operations": [
            {"op": "set", "path": "plan", "value": "pro"}]}]}, headers=SERVER).json()
    assert later["applied"] == 0 and later["dropped"][0]["reason"] == "suppressed"


def test_operations_endpoints_and_metrics() -> None:
    client = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["audiences"] == 8
    client.post("/v1/events", json={"events": events()}, headers=SERVER)
    client.post("/v1/decide", json={"user_id": "u-42"}, headers=SERVER)
    client.post("/v1/decide", json={"user_id": "u-42"})
    text = client.get("/metrics").text
    assert f"segmentql_events_applied_total {float(len(events()))}" in text
    assert 'segmentql_http_requests_total{method="POST",route="/v1/decide",status="401"} 1.0' in text
    assert 'segmentql_decisions_total{outcome="matched"} 1.0' in text
    assert "segmentql_http_request_duration_seconds_bucket" in text
    assert SERVER_KEY not in text


def test_audiences_reload_keeps_the_old_set_when_broken(tmp_path: Path) -> None:
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text('pro: user\'s plan is "pro"\n')
    app = create_app(Settings(audiences=str(audiences)), environ=KEYS_ENV)
    client, service = Client(app), app.state.service
    ask = {"variables": {"user": {"plan": "pro", "age": 40}}}
    assert client.post("/v1/decide", json=ask, headers=SERVER).json()["matched"] == ["pro"]
    audiences.write_text('pro: user\'s plan is "pro"\nadults: user\'s age >= 18\n')
    service.reload_files()
    assert client.post("/v1/decide", json=ask, headers=SERVER).json()["matched"] == [
        "pro", "adults"]
    audiences.write_text('pro: user\'s plan is\nadults: user\'s agee >= 18 and\n')
    service.reload_files()
    assert client.post("/v1/decide", json=ask, headers=SERVER).json()["matched"] == [
        "pro", "adults"]
    ready = client.get("/readyz").json()
    assert "pro: error[" in ready["last_reload_error"]
    assert "adults: error[" in ready["last_reload_error"]


def test_keys_rotate_without_restart(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('server_keys = ["sk_old"]\n')
    app = create_app(Settings(keys_file=str(keys)), environ={})
    client, service = Client(app), app.state.service
    assert client.get("/v1/profiles/u", headers=bearer("sk_old")).status_code == 200
    import hashlib

    digest = hashlib.sha256(b"sk_new").hexdigest()
    keys.write_text(f'server_keys = ["sha256:{digest}"]\nuser_hash_secrets = ["s2"]\n')
    service.reload_files()
    problem(client.get("/v1/profiles/u", headers=bearer("sk_old")), 401, "unknown-key")
    assert client.get("/v1/profiles/u", headers=bearer("sk_new")).status_code == 200
    keys.write_text("server_keys = [")  # broken: the current keys stay
    service.reload_files()
    assert client.get("/v1/profiles/u", headers=bearer("sk_new")).status_code == 200


def test_refuses_to_start_listing_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "audiences.yaml"
    bad.write_text('a: user\'s plan is\nb: user\'s emial == "x"\nc: "user\'s age + 1"\n')
    with pytest.raises(ServiceError) as caught:
        create_app(Settings(audiences=str(bad)), environ=KEYS_ENV)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["a", "c"]
    assert all("error[Q" in p for p in problems)


def test_several_audience_files_and_a_name_defined_twice(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.json"
    first.write_text('pro: user\'s plan is "pro"\n')
    second.write_text('{"adults": "user\'s age >= 18"}')
    client = Client(create_app(Settings(audiences=[str(first), str(second)]), environ=KEYS_ENV))
    ask = {"variables": {"user": {"plan": "pro", "age": 40}}}
    assert client.post("/v1/decide", json=ask, headers=SERVER).json()["matched"] == [
        "pro", "adults"]
    second.write_text('{"pro": "user\'s age >= 18"}')
    with pytest.raises(ServiceError) as caught:
        create_app(Settings(audiences=[str(first), str(second)]), environ=KEYS_ENV)
    assert caught.value.problems == [f"pro: already defined in {first}"]


def test_openapi_docs_and_playground_are_served() -> None:
    client = make_client()
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/v1/events", "/v1/decide", "/v1/check", "/v1/profiles/{user_id}",
            "/v1/users/{user_id}", "/healthz", "/readyz", "/metrics"} <= set(document["paths"])
    assert "swagger" in client.get("/docs").text.lower()
    page = client.get("/playground")
    assert page.status_code == 200 and '<textarea id="query"' in page.text
    script = client.get("/playground/playground.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "/v1/check" in script.text
    problem(client.get("/playground/secrets.txt"), 404, "not-found")


def test_readyz_is_not_ready_while_the_store_cannot_be_read(tmp_path: Path) -> None:
    app = create_app(Settings(store=str(tmp_path / "p.sqlite")), environ=KEYS_ENV)
    client = Client(app)
    assert client.get("/readyz").status_code == 200
    app.state.service.store.close()  # what a lost database looks like to the service
    problem(client.get("/readyz"), 503, "not-ready")
    problem(client.post("/v1/decide", json={"anonymous_id": "d"}, headers=SERVER), 503,
            "store-unavailable")
