"""Two `segmentql serve` processes (2 workers each) on one PostgreSQL database: concurrent
event batches through both, none lost, and each service decides on what the other applied."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .support import EXAMPLES, SERVER_KEY, bearer, serve

pytestmark = [pytest.mark.service, pytest.mark.postgres]

BATCHES = 40
PER_BATCH = 25


def test_two_services_on_one_database_lose_nothing(postgres_url: str, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "audiences.yaml", tmp_path / "audiences.yaml")
    arguments = ("--store", postgres_url, "--audiences", "audiences.yaml", "--workers", "2")
    with serve(tmp_path, *arguments) as first, serve(tmp_path, *arguments) as second:
        urls = [first.url, second.url]

        def send(n: int) -> int:
            # every batch bumps one shared user's counter and tracks pages of its own device
            events: list[dict[str, object]] = [
                {"type": "patch", "user_id": "shared", "operations": [
                    {"op": "increment", "path": "visits"}]},
            ]
            events += [
                {"type": "track", "anonymous_id": f"device-{n}", "event": "pageOpened",
                 "message_id": f"m-{n}-{i}", "properties": {"url": f"https://x.example/{i}"}}
                for i in range(PER_BATCH - 1)
            ]
            with httpx.Client(base_url=urls[n % 2], headers=bearer(SERVER_KEY),
                              timeout=30) as client:
                response = client.post("/v1/events", json={"events": events})
            assert response.status_code == 200, response.text
            return int(response.json()["applied"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            applied = list(pool.map(send, range(BATCHES)))
        assert sum(applied) == BATCHES * PER_BATCH

        for url in urls:
            with httpx.Client(base_url=url, headers=bearer(SERVER_KEY), timeout=30) as client:
                shared = client.get("/v1/profiles/shared").json()
                assert shared["user"]["custom"]["visits"] == BATCHES, "a patch was lost"
                for n in (0, 1, BATCHES - 1):
                    answer = client.post("/v1/evaluate", json={
                        "query": f"user has viewed a page at least {PER_BATCH - 1} times",
                        "anonymous_id": f"device-{n}"}).json()
                    assert answer["matched"] is True, (url, n, answer)
                decided = client.post("/v1/decide", json={
                    "variables": {"user": {"plan": "pro"}}, "audiences": ["pro_users"]}).json()
                assert decided["matched"] == ["pro_users"]
        assert first.stop() == 0 and second.stop() == 0
