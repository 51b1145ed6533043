"""Request limits: body size (an ASGI middleware, before any parsing) and a per-key rate limit
(a token bucket per key and worker)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from segmentql.service.problems import Problem


class BodyLimit:
    """Answer 413 for a body larger than `max_bytes` (by `Content-Length` or as it streams);
    a smaller body is buffered and handed on unchanged."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(scope, send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        problem = Problem(
            "body-too-large",
            f"the request body is larger than {self.max_bytes} bytes",
            limit=self.max_bytes,
        )
        response = problem.response(scope.get("path"))
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class RateLimiter:
    """A token bucket per key: `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, ident: str, now: float | None = None) -> None:
        """Take one token for `ident`, or raise the 429 problem with `Retry-After`."""
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(ident, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[ident] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise Problem(
                    "rate-limited",
                    f"more than {self.rate:g} requests per second for this key; retry in "
                    f"{wait} s",
                    headers={"Retry-After": str(wait)},
                    retry_after=wait,
                )
            self._buckets[ident] = (tokens - 1.0, now)

    def snapshot(self) -> dict[str, Any]:
        return {"rate": self.rate, "burst": self.burst, "keys": len(self._buckets)}
