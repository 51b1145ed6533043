"""Request and response bodies (pydantic; strict, unknown members refused), which are also
the OpenAPI schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

EVENT_TYPES = (
    "identify", "anonymize", "patch", "track", "page", "screen", "group", "alias", "merge",
    "delete_user", "unsuppress",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class EventItem(BaseModel):
    """One event in the store's event model (see docs/state-model.md). `user_hash` may
    accompany a `user_id` (required with a client key)."""

    model_config = ConfigDict(extra="allow", strict=True)

    type: str = Field(
        min_length=1, max_length=64, description="one of: " + ", ".join(EVENT_TYPES)
    )
    user_hash: str | None = Field(
        default=None, max_length=256, description="hex HMAC-SHA256 of user_id"
    )


class EventsRequest(_Strict):
    events: list[EventItem] = Field(description="applied in order, atomically")


class DroppedOut(_Strict):
    index: int
    type: str
    reason: str
    message: str


class NoticeOut(_Strict):
    index: int
    kind: str
    message: str


class EventsResponse(_Strict):
    applied: int
    dropped: list[DroppedOut]
    notices: list[NoticeOut]


class RequestContext(_Strict):
    """Request-time variables merged into the snapshot (each an open JSON object)."""

    page: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    device: dict[str, Any] | None = None
    browser: dict[str, Any] | None = None
    campaign: dict[str, Any] | None = None
    cart: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


class _Subject(_Strict):
    user_id: str | None = Field(default=None, max_length=1024)
    anonymous_id: str | None = Field(default=None, max_length=1024)
    user_hash: str | None = Field(
        default=None, max_length=256, description="hex HMAC-SHA256 of user_id (client keys)"
    )
    variables: dict[str, Any] | None = Field(
        default=None, description="inline variables instead of an id (server keys only)"
    )
    context: RequestContext | None = None
    now: str | None = Field(
        default=None, max_length=64, description="evaluation instant, ISO 8601 (default: now)"
    )
    time_zone: str | None = Field(default=None, max_length=64, description="IANA zone")


class DecideRequest(_Subject):
    audiences: list[str] | None = Field(
        default=None, description="audience names to decide (default: all)"
    )
    explain: bool = False


class EvaluationErrorOut(_Strict):
    code: str
    message: str


class DecideResponse(_Strict):
    audiences: dict[str, bool]
    matched: list[str]
    errors: dict[str, EvaluationErrorOut]
    explanations: dict[str, dict[str, Any]] | None = None
    version: str = Field(description="the audiences file version that decided")


class EvaluateRequest(_Subject):
    query: str = Field(max_length=20_000)


class EvaluateResponse(_Strict):
    value: Any
    matched: bool
    error: EvaluationErrorOut | None
    explanation: dict[str, Any]


class CheckRequest(_Strict):
    query: str = Field(max_length=20_000)
    expect_boolean: bool = Field(default=True, description="an audience must be boolean")


class CheckResponse(_Strict):
    diagnostics: list[dict[str, Any]]


class CompleteRequest(_Strict):
    query: str = Field(max_length=20_000)
    offset: int = Field(ge=0, le=20_000)


class CompletionOut(_Strict):
    label: str
    kind: str
    detail: str


class CompleteResponse(_Strict):
    items: list[CompletionOut]


class DeleteResponse(_Strict):
    user_id: str
    suppressed: bool
    applied: int
    scrub_pending: bool = Field(
        default=False,
        description="the deletion is committed but its bytes are scrubbed from the store's "
        "files later (another reader held them)",
    )


class Health(_Strict):
    status: str


class Ready(_Strict):
    status: str
    audiences: int
    version: str
    store: str
    last_reload_error: str | None
