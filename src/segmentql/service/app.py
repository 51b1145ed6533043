"""The app factory: `create_app(settings)` opens the store, the keys and the audiences (each
refusing to start on a problem) and returns the FastAPI app. `app_from_env` is the factory
uvicorn imports in every worker, so each worker opens its own store.

Blocking work (store calls, evaluation) runs in the threadpool, except decisions on a memory
or SQLite store, which run on the event loop (short, CPU-bound reads: a thread would only add
its hand-over); files are watched by one background task per worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from segmentql.errors import EvaluationError, QueryError, SchemaError
from segmentql.service import models as m
from segmentql.service.audiences import AudienceRegistry
from segmentql.service.auth import (
    AnyKey,
    ServerKey,
    require_server,
    require_user_hash,
    service_of,
)
from segmentql.service.keys import Key, KeySource
from segmentql.service.limits import BodyLimit, RateLimiter
from segmentql.service.metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from segmentql.service.problems import Problem, ProblemModel, install, responses
from segmentql.service.settings import Settings
from segmentql.state import ProfileStore, StateError, StoreError
from segmentql.state.errors import DeletionPendingError

log = logging.getLogger("segmentql.service")

#: Run-time codes of the evaluation cost budget (issue #12): a decision that hits one answers
#: with the `evaluation-budget-exceeded` problem rather than a silent no-match.
BUDGET_CODES = frozenset(f"Q{n}" for n in range(312, 330))

#: Event types a client key may send (all others need a server key).
CLIENT_EVENT_TYPES = frozenset(
    {"identify", "anonymize", "patch", "track", "page", "screen", "group"}
)


class ServiceError(Exception):
    """The service cannot start; `problems` lists why (printed by `segmentql serve`)."""

    def __init__(self, what: str, problems: list[str]) -> None:
        super().__init__(what + ":\n" + "\n".join(f"  {p}" for p in problems))
        self.what = what
        self.problems = problems


def open_store(spec: str, schema: Any = None) -> ProfileStore:
    if spec in ("memory", ":memory:"):
        return ProfileStore(schema=schema)
    return ProfileStore.open(spec, schema=schema)


def load_schema(path: str | None) -> Any:
    from segmentql.schema import Schema

    if path is None:
        return Schema.default()
    return Schema.load(path)


class Service:
    """Everything one worker holds: store, keys, audiences, limiter, metrics."""

    def __init__(
        self,
        settings: Settings,
        store: ProfileStore | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        from segmentql.service.audiences import AudiencesError
        from segmentql.service.keys import KeysError

        self.settings = settings
        try:
            self.schema = load_schema(settings.schema)
        except SchemaError as exc:
            raise ServiceError("the schema cannot be loaded", [str(exc)]) from None
        try:
            self.keys = KeySource(settings.keys_file, environ)
        except KeysError as exc:
            raise ServiceError("the keys cannot be loaded", [str(exc)]) from None
        try:
            self.audiences = AudienceRegistry(settings.audiences, self.schema)
        except AudiencesError as exc:
            raise ServiceError(f"the audiences file {exc.path} has errors", exc.problems
                               ) from None
        #: A store given by the caller is the caller's to close; one opened here is ours.
        self._owns_store = store is None and settings.store not in ("memory", ":memory:")
        self._closed = False
        self.store = store if store is not None else self._open_store()
        #: Decide on the event loop itself, with no threadpool hop: the store is in this
        #: process (memory) or a local SQLite file, whose reads are short and CPU-bound like
        #: the evaluation, so a thread would only add its hand-over. A PostgreSQL store waits
        #: on the network, so its decisions run in the threadpool.
        self.decide_inline = "://" not in self.store.where
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self.metrics = Metrics()

    def _open_store(self) -> ProfileStore:
        schema = self.schema if self.settings.schema else None
        try:
            return open_store(self.settings.store, schema)
        except StateError as exc:
            raise ServiceError("the profile store cannot be opened", [str(exc)]) from None

    def start(self) -> None:
        """At (re)start: reopen the store if a previous shutdown closed it."""
        if self._closed:
            self.store = self._open_store()
            self._closed = False

    def stop(self) -> None:
        """At shutdown: close the store this service opened (requests have finished)."""
        if self._owns_store and not self._closed:
            self.store.close()
            self._closed = True

    # --- background reloads ------------------------------------------------------------------

    def reload_files(self) -> None:
        outcome = self.audiences.reload_if_changed()
        if outcome is not None:
            self.metrics.reloads.labels("audiences", "loaded" if outcome else "refused").inc()
        if self.keys.reload_if_changed():
            self.metrics.reloads.labels("keys", "loaded").inc()

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reload_interval)
            try:
                await run_in_threadpool(self.reload_files)
            except Exception as exc:  # a watcher must never die
                log.error("reloading files failed: %s: %s", type(exc).__name__, exc)

    # --- the work of each endpoint (run in the threadpool) -----------------------------------

    def apply_events(self, body: m.EventsRequest, key: Key) -> m.EventsResponse:
        if len(body.events) > self.settings.max_batch:
            raise Problem(
                "batch-too-large",
                f"{len(body.events)} events in one batch; at most {self.settings.max_batch}",
                limit=self.settings.max_batch,
            )
        events: list[dict[str, Any]] = []
        for index, item in enumerate(body.events):
            event = item.model_dump(exclude={"user_hash"})
            where = f"events[{index}]"
            if key.role != "server":
                if item.type not in CLIENT_EVENT_TYPES:
                    raise Problem(
                        "server-key-required",
                        f"{where}: a client key cannot send '{item.type}' events",
                        field=f"{where}.type",
                    )
                user_id = event.get("user_id")
                if user_id is not None:
                    if not isinstance(user_id, str):
                        raise Problem("invalid-event", f"{where}.user_id: must be a string",
                                      field=f"{where}.user_id", event_index=index)
                    require_user_hash(self, key, user_id, item.user_hash, where)
            events.append(event)
        try:
            result = self.store.apply(events)
        except StoreError as exc:
            raise Problem("store-unavailable", f"the profile store failed: {exc}") from None
        except StateError as exc:
            bad: int | None = exc.event_index
            where = f"events[{bad}]" if bad is not None else "events"
            raise Problem(
                "invalid-event", f"{where}: {_plain(exc)}; nothing was applied",
                field=where, event_index=bad,
            ) from None
        self.metrics.events_applied.inc(result.applied)
        for dropped in result.dropped:
            self.metrics.events_dropped.labels(dropped.reason).inc()
        return m.EventsResponse(
            applied=result.applied,
            dropped=[m.DroppedOut(index=d.index, type=d.event_type, reason=d.reason,
                                  message=d.message) for d in result.dropped],
            notices=[m.NoticeOut(index=n.index, kind=n.kind, message=n.message)
                     for n in result.notices],
        )

    def variables_for(self, body: m._Subject, key: Key) -> tuple[Mapping[str, Any],
                                                                   dt.datetime, dt.tzinfo]:
        now, tz = self._clock(body)
        context = body.context.model_dump(exclude_none=True) if body.context else {}
        if body.variables is not None:
            require_server(key, "inline 'variables'")
            if body.user_id is not None or body.anonymous_id is not None:
                raise Problem("invalid-request",
                              "give either 'variables' or an id (user_id/anonymous_id), not both",
                              errors=[{"field": "variables", "message": "conflicts with id"}])
            return {**body.variables, **context}, now, tz
        if body.user_id is None and body.anonymous_id is None:
            raise Problem(
                "invalid-request", "give 'user_id' or 'anonymous_id' (or, with a server key, "
                "'variables')",
                errors=[{"field": "user_id", "message": "required without anonymous_id"}],
            )
        if body.user_id is not None:
            require_user_hash(self, key, body.user_id, body.user_hash, "request")
        try:
            snapshot = self.store.snapshot(
                user_id=body.user_id, anonymous_id=body.anonymous_id, now=now, **context
            )
        except StoreError as exc:
            raise Problem("store-unavailable", f"the profile store failed: {exc}") from None
        return snapshot, now, tz

    def _clock(self, body: m._Subject) -> tuple[dt.datetime, dt.tzinfo]:
        from segmentql.runtime.temporal import zone

        name = body.time_zone or self.settings.time_zone
        try:
            tz = zone(name)
        except ValueError:
            raise Problem("invalid-request", f"time_zone: unknown time zone {name!r}",
                          errors=[{"field": "time_zone", "message": "unknown IANA zone"}]
                          ) from None
        if body.now is None:
            return dt.datetime.now(dt.UTC), tz
        try:
            now = dt.datetime.fromisoformat(body.now)
        except ValueError:
            raise Problem("invalid-request", "now: not an ISO 8601 date-time",
                          errors=[{"field": "now", "message": "not an ISO 8601 date-time"}]
                          ) from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=tz)
        return now, tz

    def decide(self, body: m.DecideRequest, key: Key) -> m.DecideResponse:
        variables, now, tz = self.variables_for(body, key)  # the key rules come first
        catalog = self.audiences.catalog
        names = list(catalog.queries) if body.audiences is None else body.audiences
        unknown = [name for name in names if name not in catalog.queries]
        if unknown:
            raise Problem("unknown-audience", f"no audience named {', '.join(map(repr, unknown))}",
                          audiences=unknown)
        results: dict[str, bool] = {}
        errors: dict[str, m.EvaluationErrorOut] = {}
        explanations: dict[str, dict[str, Any]] | None = {} if body.explain else None
        # All audiences (when all are asked for: an audience not asked for must cost
        # nothing) in one call of the compiled set; True there is exactly what `evaluate`
        # gives True for. Only an audience answering False may have met an error or run out
        # of budget, so only those are evaluated again on their own, for the error (see
        # docs/performance.md, "The service").
        together = catalog.together
        hits: Mapping[str, bool] = (
            together.evaluate(variables, now=now, time_zone=tz)
            if together is not None and len(set(names)) == len(catalog.queries) else {}
        )
        for name in names:
            query = catalog.queries[name]
            try:
                results[name] = hits.get(name) is True or (
                    query.evaluate(variables, now=now, time_zone=tz) is True)
            except EvaluationError as exc:
                if exc.code in BUDGET_CODES:
                    raise Problem(
                        "evaluation-budget-exceeded",
                        f"audience {name!r} exceeded the evaluation budget: {exc.message}",
                        audience=name, diagnostic_code=exc.code,
                    ) from None
                results[name] = False
                errors[name] = m.EvaluationErrorOut(code=exc.code, message=exc.message)
            if explanations is not None:
                explanations[name] = query.explain(variables, now=now, time_zone=tz).to_json()
        matched = [name for name, hit in results.items() if hit]
        self.metrics.decisions.labels("matched" if matched else "none").inc()
        return m.DecideResponse(audiences=results, matched=matched, errors=errors,
                                explanations=explanations, version=catalog.version)

    def evaluate(self, body: m.EvaluateRequest, key: Key) -> m.EvaluateResponse:
        from segmentql.compiler import compile_query

        try:
            query = compile_query(body.query, self.schema)
        except QueryError as exc:
            raise Problem("invalid-query", exc.diagnostics[0].message if exc.diagnostics
                          else "the query does not compile",
                          diagnostics=[d.to_json() for d in exc.diagnostics]) from None
        variables, now, tz = self.variables_for(body, key)
        error: m.EvaluationErrorOut | None = None
        try:
            value = query.evaluate(variables, now=now, time_zone=tz)
        except EvaluationError as exc:
            if exc.code in BUDGET_CODES:
                raise Problem("evaluation-budget-exceeded",
                              f"the query exceeded the evaluation budget: {exc.message}",
                              diagnostic_code=exc.code) from None
            value = None
            error = m.EvaluationErrorOut(code=exc.code, message=exc.message)
        explanation = query.explain(variables, now=now, time_zone=tz).to_json()
        from segmentql.compiler.query import json_value

        return m.EvaluateResponse(value=json_value(value), matched=value is True, error=error,
                                  explanation=explanation)

    def profile(self, user_id: str) -> dict[str, Any]:
        try:
            return self.store.snapshot(user_id=user_id).to_json()
        except StoreError as exc:
            raise Problem("store-unavailable", f"the profile store failed: {exc}") from None

    def delete_user(self, user_id: str, suppress: bool) -> m.DeleteResponse:
        try:
            result = self.store.delete_user(user_id=user_id, suppress=suppress)
        except DeletionPendingError:
            # committed: nothing reads the user any more; the scrub of the bytes completes later
            return m.DeleteResponse(user_id=user_id, suppressed=suppress, applied=1,
                                    scrub_pending=True)
        except StoreError as exc:
            raise Problem("store-unavailable", f"the profile store failed: {exc}") from None
        except StateError as exc:
            raise Problem("invalid-request", f"user_id: {_plain(exc)}",
                          errors=[{"field": "user_id", "message": _plain(exc)}]) from None
        return m.DeleteResponse(user_id=user_id, suppressed=suppress, applied=result.applied)

    def check(self, body: m.CheckRequest) -> m.CheckResponse:
        from segmentql.checker import check

        diagnostics = check(body.query, self.schema, expect=bool if body.expect_boolean else None)
        return m.CheckResponse(diagnostics=[d.to_json() for d in diagnostics])

    def complete(self, body: m.CompleteRequest) -> m.CompleteResponse:
        from segmentql.lsp.features import complete

        items = complete(body.query, min(body.offset, len(body.query)), self.schema)
        ranked = sorted(items, key=lambda c: c.rank)
        return m.CompleteResponse(items=[m.CompletionOut(label=c.label, kind=c.kind,
                                                         detail=c.detail) for c in ranked[:50]])


def _plain(exc: Exception) -> str:
    message = getattr(exc, "message", None)
    return str(message if isinstance(message, str) else exc)


def _playground_file(name: str) -> str:
    return resources.files("segmentql.service").joinpath("static", name).read_text("utf-8")


def create_app(
    settings: Settings | None = None,
    *,
    store: ProfileStore | None = None,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    """The service as an ASGI app. Raises `ServiceError` (listing every problem) when the
    schema, keys, audiences or store cannot be used. Keys are read from `environ` (default:
    the process environment) and the settings' keys file."""
    from segmentql import __version__

    settings = settings or Settings()
    service = Service(settings, store, environ)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)
        watcher = asyncio.create_task(service.watch())
        counts = service.keys.ring.counts
        log.info("serving %d audiences (version %s) from store %s; %d server and %d client keys",
                 len(service.audiences.catalog.queries), service.audiences.catalog.version,
                 settings.store if "://" not in settings.store else "(url)", counts["server"],
                 counts["client"])
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await run_in_threadpool(service.stop)
            log.info("stopped: store closed")

    app = FastAPI(
        title="segmentql",
        version=__version__,
        summary="Event collection and audience decisions over HTTP.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = service
    install(app)
    _routes(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=service.metrics)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = ProblemModel.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """The uvicorn factory for `segmentql serve` workers (settings in the environment)."""
    from segmentql.service.settings import Settings

    return create_app(Settings.from_env())


def _json(model: BaseModel) -> Response:
    """A response model already built (and so valid) by our own code, serialized once (the
    hot endpoints skip FastAPI's second validation of it; the OpenAPI document still names
    its schema)."""
    return Response(model.model_dump_json(), media_type="application/json")


def _routes(app: FastAPI) -> None:
    auth_statuses = (401, 429)

    @app.post("/v1/events", response_model=m.EventsResponse, tags=["events"],
              responses=responses(400, *auth_statuses, 403, 413, 422, 503))
    async def post_events(request: Request, body: m.EventsRequest, key: AnyKey) -> Response:
        """Apply a batch of events atomically (identify, patch, track, group, anonymize, ...).
        A repeated `message_id` is dropped and reported, never applied twice."""
        return _json(await run_in_threadpool(service_of(request).apply_events, body, key))

    @app.post("/v1/decide", response_model=m.DecideResponse, tags=["decisions"],
              responses=responses(400, *auth_statuses, 403, 404, 413, 422, 503))
    async def post_decide(request: Request, body: m.DecideRequest, key: AnyKey) -> Response:
        """Which audiences match the stored profile (or inline `variables`, server keys) plus
        the request context, with optional explanations."""
        service = service_of(request)
        if service.decide_inline:
            return _json(service.decide(body, key))
        return _json(await run_in_threadpool(service.decide, body, key))

    @app.post("/v1/evaluate", response_model=m.EvaluateResponse, tags=["decisions"],
              responses=responses(400, *auth_statuses, 403, 413, 422, 503))
    async def post_evaluate(request: Request, body: m.EvaluateRequest,
                            key: ServerKey) -> m.EvaluateResponse:
        """Evaluate one ad-hoc query with its explanation (server keys; the playground)."""
        return await run_in_threadpool(service_of(request).evaluate, body, key)

    @app.post("/v1/check", response_model=m.CheckResponse, tags=["queries"],
              responses=responses(400, *auth_statuses, 413, 422))
    async def post_check(request: Request, body: m.CheckRequest,
                         key: AnyKey) -> m.CheckResponse:
        """Diagnostics (code, span, message, help, suggestions) for a query against the
        service's schema."""
        return await run_in_threadpool(service_of(request).check, body)

    @app.post("/v1/complete", response_model=m.CompleteResponse, tags=["queries"],
              responses=responses(400, *auth_statuses, 413, 422))
    async def post_complete(request: Request, body: m.CompleteRequest,
                            key: AnyKey) -> m.CompleteResponse:
        """Completion candidates at a character offset of a query (for editors)."""
        return await run_in_threadpool(service_of(request).complete, body)

    @app.get("/v1/profiles/{user_id}", response_model=dict[str, Any], tags=["profiles"],
             responses=responses(*auth_statuses, 403, 503))
    async def get_profile(request: Request, user_id: str,
                          key: ServerKey) -> dict[str, Any]:
        """The user's snapshot (an unknown user gives an empty profile). Server keys only."""
        return await run_in_threadpool(service_of(request).profile, user_id)

    @app.delete("/v1/users/{user_id}", response_model=m.DeleteResponse, tags=["profiles"],
                responses=responses(*auth_statuses, 403, 422, 503))
    async def delete_user(
        request: Request,
        user_id: str,
        key: ServerKey,
        suppress: Annotated[bool, Query(description="drop later events")] = False,
    ) -> m.DeleteResponse:
        """Delete the user's profile, identifiers and events; `suppress` drops later events for
        the id. Server keys only."""
        return await run_in_threadpool(service_of(request).delete_user, user_id, suppress)

    @app.get("/healthz", response_model=m.Health, tags=["operations"])
    async def healthz() -> m.Health:
        """The process is up."""
        return m.Health(status="ok")

    @app.get("/readyz", response_model=m.Ready, tags=["operations"], responses=responses(503))
    async def readyz(request: Request) -> m.Ready:
        """The store answers a read and the audiences are loaded (503 `not-ready` when the
        store cannot be read, e.g. its database is down)."""
        service = service_of(request)
        try:
            await run_in_threadpool(service.store.snapshot, anonymous_id="segmentql-readyz")
        except StoreError as exc:
            raise Problem("not-ready", f"the profile store cannot be read: {exc}") from None
        catalog = service.audiences.catalog
        store = service.settings.store
        return m.Ready(status="ready", audiences=len(catalog.queries), version=catalog.version,
                       store="memory" if store in ("memory", ":memory:") else
                       ("postgresql" if "://" in store else "sqlite"),
                       last_reload_error=service.audiences.last_error)

    @app.get("/metrics", tags=["operations"], response_class=Response,
             responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                              "description": "Prometheus text format"}})
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests, latencies, events, decisions, errors, reloads."""
        return Response(service_of(request).metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/playground", response_class=HTMLResponse, include_in_schema=False)
    async def playground() -> HTMLResponse:
        return HTMLResponse(_playground_file("playground.html"))

    @app.get("/playground/{name}", include_in_schema=False)
    async def playground_asset(name: str) -> Response:
        types = {"playground.js": "text/javascript", "playground.css": "text/css"}
        if name not in types:
            raise Problem("not-found", f"no playground file {name!r}")
        return Response(_playground_file(name), media_type=types[name] + "; charset=utf-8")

