"""One error shape everywhere: `application/problem+json` (RFC 9457) with a stable `code`.

    {"type": "urn:segmentql:problem:unknown-key", "title": "Unknown API key", "status": 401,
     "detail": "...", "code": "unknown-key", "instance": "/v1/decide", ...extra members}

Every code is listed in `CODES` (and in `docs/service.md`); a handler turns each exception the
framework raises (validation, unknown route, wrong method) and any unexpected one into this
shape, so no response ever carries a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"

#: code → (status, title). Stable: never renamed, only added.
CODES: dict[str, tuple[int, str]] = {
    "malformed-json": (400, "Malformed JSON body"),
    "missing-key": (401, "Missing API key"),
    "unknown-key": (401, "Unknown API key"),
    "invalid-user-hash": (401, "Invalid user hash"),
    "server-key-required": (403, "Server key required"),
    "not-found": (404, "Not found"),
    "unknown-audience": (404, "Unknown audience"),
    "method-not-allowed": (405, "Method not allowed"),
    "body-too-large": (413, "Request body too large"),
    "batch-too-large": (413, "Event batch too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "invalid-request": (422, "Invalid request"),
    "invalid-event": (422, "Invalid event"),
    "invalid-query": (422, "Invalid query"),
    "evaluation-budget-exceeded": (422, "Evaluation budget exceeded"),
    "evaluation-error": (422, "Evaluation error"),
    "rate-limited": (429, "Too many requests"),
    "internal-error": (500, "Internal error"),
    "not-ready": (503, "Not ready"),
    "store-unavailable": (503, "Profile store unavailable"),
}

log = logging.getLogger("segmentql.service")


class ProblemModel(BaseModel):
    """The documented shape of every error response (extra members allowed)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None


class Problem(Exception):
    """An error response: raise it anywhere in a request."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title = CODES[code]
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None) -> dict[str, Any]:
        return {
            "type": f"urn:segmentql:problem:{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "instance": instance,
            **self.extra,
        }

    def response(self, instance: str | None = None) -> JSONResponse:
        return JSONResponse(
            self.body(instance), status_code=self.status, headers=self.headers,
            media_type=MEDIA_TYPE,
        )


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route can answer."""
    described: dict[int, list[str]] = {}
    for code, (status, _title) in CODES.items():
        described.setdefault(status, []).append(code)
    return {
        status: {
            "description": "A problem: " + ", ".join(described.get(status, ["error"])),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "(body)"


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = errors[0].get("ctx") or {}
        where = errors[0].get("loc", ("body", 0))
        position = where[-1] if len(where) > 1 else 0
        return Problem(
            "malformed-json",
            f"the body is not valid JSON ({ctx.get('error', 'parse error')} at character "
            f"{position})",
        )
    if len(errors) == 1 and tuple(errors[0].get("loc", ())) == ("body",):
        return Problem(
            "invalid-request",
            "the body must be a JSON object sent as 'Content-Type: application/json'",
            errors=[{"field": "(body)", "message": str(errors[0].get("msg", ""))}],
        )
    fields = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", ""))}
              for e in errors]
    detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return Problem("invalid-request", detail, errors=fields)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem response."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.response(request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc).response(request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            problem = Problem("method-not-allowed", f"{request.method} is not allowed here",
                              headers=headers)
        elif exc.status_code == 404:
            problem = Problem("not-found", f"no resource at {request.url.path}")
        elif exc.status_code == 413:
            problem = Problem("body-too-large", str(exc.detail))
        elif exc.status_code == 400:
            problem = Problem("malformed-json", str(exc.detail))
        else:
            problem = Problem("invalid-request", str(exc.detail))
            problem.status = exc.status_code
        return problem.response(request.url.path)

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s: %s: %s", request.method, request.url.path,
                  type(exc).__name__, exc)
        return Problem("internal-error", "the service failed to answer; the error is logged"
                       ).response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_error)
