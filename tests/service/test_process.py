"""`segmentql serve` as a real process with 2 workers on a free loopback port, driven by httpx:
events in, decisions out, every key rule, the user hash, a reload, a graceful stop."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .support import CLIENT_KEY, EXAMPLES, KEYS_ENV, ROOT, Served, serve, signed

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    shutil.copy(EXAMPLES / "audiences.yaml", tmp / "audiences.yaml")
    shutil.copy(EXAMPLES / "schema.yaml", tmp / "schema.yaml")
    with serve(tmp, "--store", "profiles.sqlite", "--audiences", "audiences.yaml", "--schema",
               "schema.yaml", "--workers", "2", "--reload-interval", "0.2") as running:
        yield running


def _events() -> list[dict[str, object]]:
    return [json.loads(line) for line in (EXAMPLES / "events.jsonl").read_text().splitlines()
            if line]


def test_events_in_decisions_out_across_workers(served: Served) -> None:
    with served.client() as client:
        result = client.post("/v1/events", json={"events": _events()})
        assert result.status_code == 200 and result.json()["applied"] == len(_events())
        # many connections, so both workers answer; each sees what the other applied
        for _ in range(12):
            with served.client() as fresh:
                decided = fresh.post("/v1/decide", json={"user_id": "u-42",
                                                         "audiences": ["acme_employees"]})
                assert decided.json()["matched"] == ["acme_employees"], decided.text
        for n in range(20):
            with served.client() as fresh:
                batch = [{"type": "track", "anonymous_id": f"dev-{n}", "event": "pageOpened",
                          "properties": {"url": f"https://shop.example/p/{n}"}}]
                assert fresh.post("/v1/events", json={"events": batch}).json()["applied"] == 1
        for n in range(20):
            with served.client() as fresh:
                profile = fresh.post("/v1/evaluate", json={
                    "query": "user has viewed a page", "anonymous_id": f"dev-{n}"}).json()
                assert profile["matched"] is True, f"event of dev-{n} lost"
        # /metrics adds up both workers (prometheus-client's multiprocess mode)
        metrics = httpx.get(served.url + "/metrics").text
        applied = re.search(r"^segmentql_events_applied_total (\S+)$", metrics, re.MULTILINE)
        assert applied is not None and float(applied.group(1)) >= len(_events()) + 20


def test_key_rules_and_user_hash(served: Served) -> None:
    def code(response: httpx.Response) -> tuple[int, str]:
        assert response.headers["content-type"] == "application/problem+json"
        return response.status_code, response.json()["code"]

    with served.client(None) as anonymous:
        assert code(anonymous.post("/v1/decide", json={"anonymous_id": "d"})) == (
            401, "missing-key")
    with served.client("sk_not_a_key") as wrong:
        assert code(wrong.post("/v1/decide", json={"anonymous_id": "d"})) == (401, "unknown-key")
    with served.client(CLIENT_KEY) as client:
        assert client.post("/v1/decide", json={"anonymous_id": "d"}).status_code == 200
        assert code(client.get("/v1/profiles/u-42")) == (403, "server-key-required")
        assert code(client.delete("/v1/users/u-42")) == (403, "server-key-required")
        assert code(client.post("/v1/decide", json={"variables": {}})) == (
            403, "server-key-required")
        identify = {"type": "identify", "anonymous_id": "web-1", "user_id": "u-77",
                    "traits": {"email": "x@acme.com"}}
        assert code(client.post("/v1/events", json={"events": [identify]})) == (
            401, "invalid-user-hash")
        forged = {**identify, "user_hash": signed("u-42")}
        assert code(client.post("/v1/events", json={"events": [forged]})) == (
            401, "invalid-user-hash")
        signed_identify = {**identify, "user_hash": signed("u-77")}
        assert client.post("/v1/events", json={"events": [signed_identify]}).json()[
            "applied"] == 1
        assert code(client.post("/v1/decide", json={"user_id": "u-77"})) == (
            401, "invalid-user-hash")
        decided = client.post("/v1/decide", json={"user_id": "u-77", "user_hash": signed("u-77"),
                                                  "audiences": ["acme_employees"]})
        assert decided.json()["matched"] == ["acme_employees"]
    assert KEYS_ENV["SEGMENTQL_SERVER_KEYS"] not in served.output()
    assert CLIENT_KEY not in served.output()


def test_audiences_reload_while_serving(served: Served) -> None:
    audiences = Path(served.log).parent / "audiences.yaml"
    original = audiences.read_text()
    ask = {"variables": {"user": {"plan": "pro"}}}
    try:
        audiences.write_text(original + 'plan_pro_again: user\'s plan == "pro"\n')
        assert _eventually(served, ask, lambda body: "plan_pro_again" in body["audiences"])
        audiences.write_text(original + "broken: user's plan is\n")
        time.sleep(1.0)
        for _ in range(6):  # both workers keep the last good set
            with served.client() as fresh:
                body = fresh.post("/v1/decide", json=ask).json()
                assert "plan_pro_again" in body["audiences"] and "broken" not in body["audiences"]
        assert "refused" in served.output() and "broken: error[" in served.output()
    finally:
        audiences.write_text(original)


def _eventually(served: Served, ask: dict[str, object], ok: object, wait: float = 10) -> bool:
    deadline = time.monotonic() + wait
    seen = 0
    while time.monotonic() < deadline:
        with served.client() as fresh:
            body = fresh.post("/v1/decide", json=ask).json()
        seen = seen + 1 if ok(body) else 0  # type: ignore[operator]
        if seen >= 6:
            return True
        time.sleep(0.1)
    return False


def test_graceful_stop_on_sigterm(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "audiences.yaml", tmp_path / "audiences.yaml")
    with serve(tmp_path, "--store", "p.sqlite", "--audiences", "audiences.yaml",
               "--workers", "2") as running:
        with running.client() as client:
            assert client.post("/v1/events", json={"events": _events()}).status_code == 200
        assert running.stop() == 0
        log = running.output()
        assert log.count("stopped: store closed") == 2, log
        assert "Traceback" not in log
    # the events survived in the store
    from segmentql.state import ProfileStore

    with ProfileStore.open(tmp_path / "p.sqlite") as store:
        assert store.snapshot(user_id="u-42")["user"]["email"]


def test_refuses_to_start_on_a_broken_audiences_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: user's plan is\nb: user's plan is \"pro\"\n")
    result = subprocess.run(
        [sys.executable, "-m", "segmentql", "serve", "--audiences", "bad.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), **KEYS_ENV, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "cannot start: the audiences file bad.yaml has errors" in result.stderr
    assert "a: error[Q" in result.stderr and "Traceback" not in result.stderr
