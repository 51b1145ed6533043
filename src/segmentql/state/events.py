"""The events an application sends, as pydantic models (also accepted as JSON).

Every event may carry `message_id` (a repeat is dropped and reported) and `timestamp`
(recorded, never used to reorder; defaults to the store's clock). Field names are snake_case;
the camelCase spellings (`anonymousId`, `userId`, `messageId`, `groupId`, ...) are accepted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from segmentql.state.errors import InvalidEventError

OperationName = Literal[
    "set",
    "set_once",
    "unset",
    "clear",
    "add",
    "combine",
    "merge",
    "remove",
    "increment",
    "decrement",
]

#: Operations that take no value.
VALUELESS_OPERATIONS = frozenset({"unset", "clear"})


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
    )


class EventBase(_Model):
    """Fields every event may carry."""

    message_id: str | None = None
    timestamp: datetime | None = None

    @field_validator("timestamp", mode="after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A timestamp without a zone is taken as UTC (documented), never as local time.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class _Addressed(EventBase):
    """An event about a device (`anonymous_id`) and/or a user (`user_id`)."""

    anonymous_id: str | None = None
    user_id: str | None = None


class Identify(EventBase):
    """The device `anonymous_id` (optional for server-side calls) is the user `user_id`;
    `traits` are `set` operations applied after any merge."""

    type: Literal["identify"] = "identify"
    user_id: str
    anonymous_id: str | None = None
    traits: dict[str, Any] = Field(default_factory=dict)


class Anonymize(EventBase):
    """The device signs out: it gets a fresh anonymous profile and a new session."""

    type: Literal["anonymize"] = "anonymize"
    anonymous_id: str


class Operation(_Model):
    """One patch operation: `op` (also accepted as `type`), a dotted `path` with `[n]`
    indexes, and a `value` (for increment/decrement the amount, default 1)."""

    op: OperationName = Field(validation_alias=AliasChoices("op", "type"))
    path: str
    value: Any = None


class Patch(_Addressed):
    """Operations applied atomically to the user's profile or current session."""

    type: Literal["patch"] = "patch"
    target: Literal["user", "session"] = "user"
    operations: list[Operation] = Field(default_factory=list)


class Track(_Addressed):
    """A tracked event (`pageOpened`, `orderPlaced`, ...) with flat properties."""

    type: Literal["track"] = "track"
    event: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)


class Group(_Addressed):
    """The user belongs to `group_id`; `traits` merge shallowly into the group's traits."""

    type: Literal["group"] = "group"
    group_id: str
    traits: dict[str, Any] = Field(default_factory=dict)


class Merge(EventBase):
    """Join the identified user `from_user_id` into `into_user_id` (only if the policy allows)."""

    type: Literal["merge"] = "merge"
    from_user_id: str
    into_user_id: str


class DeleteUser(EventBase):
    """Erase a user (by `user_id`, or the profile a device resolves to); `suppress` drops
    later events carrying that id."""

    type: Literal["delete_user"] = "delete_user"
    user_id: str | None = None
    anonymous_id: str | None = None
    suppress: bool = False


class Unsuppress(EventBase):
    """Accept events for a suppressed id again (earlier deletions are not re-applied)."""

    type: Literal["unsuppress"] = "unsuppress"
    user_id: str | None = None
    anonymous_id: str | None = None


Event = Annotated[
    Identify | Anonymize | Patch | Track | Group | Merge | DeleteUser | Unsuppress,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[type[EventBase], ...] = (
    Identify,
    Anonymize,
    Patch,
    Track,
    Group,
    Merge,
    DeleteUser,
    Unsuppress,
)

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: EventBase | Mapping[str, Any] | str | bytes) -> EventBase:
    """An event model from a model, a mapping or JSON text; `InvalidEventError` otherwise."""
    if isinstance(data, EVENT_TYPES):
        return data
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidEventError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, Mapping):
        raise InvalidEventError(f"an event is a JSON object, not {type(data).__name__}")
    if "type" not in data:
        raise InvalidEventError(
            "missing 'type' (one of: identify, anonymize, patch, track, group, merge, "
            "delete_user, unsuppress)"
        )
    try:
        return _EVENT_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise InvalidEventError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Pydantic's errors as one line each: `where: what`."""
    parts = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(p) for p in error["loc"])
        parts.append(f"{location}: {error['msg']}" if location else str(error["msg"]))
    return "; ".join(parts)
