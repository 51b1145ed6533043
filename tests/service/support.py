"""Helpers for the service tests: keys, an in-process client, a real `segmentql serve`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from segmentql.service import Settings, create_app, user_hash

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "segmentql" / "examples"

SERVER_KEY = "sk_test_9f2c41d0b7"
CLIENT_KEY = "pk_test_5e81aa03c2"
SECRET = "whsec_test_3c1f7a"
KEYS_ENV = {
    "SEGMENTQL_SERVER_KEYS": SERVER_KEY,
    "SEGMENTQL_CLIENT_KEYS": CLIENT_KEY,
    "SEGMENTQL_USER_HASH_SECRET": SECRET,
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def signed(user_id: str) -> str:
    return user_hash(SECRET, user_id)


class Client:
    """A synchronous face for `httpx.AsyncClient` over the app's ASGI interface (no server)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def make_client(settings: Settings | None = None, **kwargs: Any) -> Client:
    settings = settings or Settings(
        audiences=str(EXAMPLES / "audiences.yaml"), schema=str(EXAMPLES / "schema.yaml")
    )
    return Client(create_app(settings, environ=KEYS_ENV, **kwargs))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A running `segmentql serve` process."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def client(self, key: str | None = SERVER_KEY) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=bearer(key) if key else {}, timeout=10)

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve(
    tmp: Path, *args: str, env: Mapping[str, str] | None = None, wait: float = 30
) -> Iterator[Served]:
    """Start `segmentql serve ARGS` on a free loopback port and wait until it is ready."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    environ = {**os.environ, **KEYS_ENV, **(env or {})}
    environ["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + environ.get("PYTHONPATH", "")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "segmentql", "serve", "--host", "127.0.0.1", "--port",
             str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, env=environ, text=True, cwd=tmp,
        )
    served = Served(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"segmentql serve exited early:\n{served.output()}")
            try:
                if httpx.get(served.url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"segmentql serve not ready in {wait} s:\n{served.output()}")
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
