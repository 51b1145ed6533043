"""Prometheus metrics (prometheus-client): requests, latencies, events, decisions, errors.

Each app has its own registry. With several workers the CLI sets `PROMETHEUS_MULTIPROC_DIR`
before they start, and `/metrics` then aggregates every worker's values.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "segmentql_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "segmentql_http_request_duration_seconds", "Time to answer a request", ["route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.errors = Counter(
            "segmentql_http_errors", "Problem responses by status", ["status"], registry=r
        )
        self.events_applied = Counter(
            "segmentql_events_applied", "Events applied to the store", registry=r
        )
        self.events_dropped = Counter(
            "segmentql_events_dropped", "Events dropped (duplicate or suppressed)", ["reason"],
            registry=r,
        )
        self.decisions = Counter(
            "segmentql_decisions", "Audience decisions made", ["outcome"], registry=r
        )
        self.reloads = Counter(
            "segmentql_reloads", "Reloads of the audiences and keys files", ["what", "outcome"],
            registry=r,
        )

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request by its route template (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "other"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - start)
            if status >= 400:
                self.metrics.errors.labels(str(status)).inc()
