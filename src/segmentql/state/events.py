"""The events an application sends, as pydantic models (also accepted as JSON).

Every event may carry `message_id` (a repeat is dropped and reported) and `timestamp`
(recorded, never used to reorder; defaults to the store's clock). Field names are snake_case;
the camelCase spellings (`anonymousId`, `userId`, `messageId`, `groupId`, ...) are accepted too.
"""

from __future__ import annotations

import json
import re
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


class Page(_Addressed):
    """Segment's `page` call: becomes the `pageOpened` event queries read (`viewed a page`),
    with `properties` plus the page's `name` and `category` when given."""

    type: Literal["page"] = "page"
    name: str | None = None
    category: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    def as_track(self) -> Track:
        properties = dict(self.properties)
        for key, value in (("name", self.name), ("category", self.category)):
            if value is not None:
                properties.setdefault(key, value)
        return Track(
            message_id=self.message_id, timestamp=self.timestamp,
            anonymous_id=self.anonymous_id, user_id=self.user_id,
            event="pageOpened", properties=properties,
        )


class Screen(_Addressed):
    """Segment's `screen` call (a mobile app screen): a custom event named `screenViewed`
    (`experienced a custom event "screenViewed"`), with the screen's `name` as `screen`."""

    type: Literal["screen"] = "screen"
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    def as_track(self) -> Track:
        properties = dict(self.properties)
        if self.name is not None:
            properties.setdefault("screen", self.name)
        return Track(
            message_id=self.message_id, timestamp=self.timestamp,
            anonymous_id=self.anonymous_id, user_id=self.user_id,
            event="screenViewed", properties=properties,
        )


class Alias(EventBase):
    """Segment's `alias` call: `previous_id` is now `user_id`. A previous id that is a known
    user becomes an explicit `merge` into `user_id` (policy `allow_explicit_merge`); any other
    previous id is taken as the device's anonymous id, as `identify` does."""

    type: Literal["alias"] = "alias"
    previous_id: str
    user_id: str


Event = Annotated[
    Identify | Anonymize | Patch | Track | Group | Merge | DeleteUser | Unsuppress | Page
    | Screen | Alias,
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
    Alias,
)

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


#: Deepest nesting of maps and lists an event may carry (the event object is level 1).
MAX_DEPTH = 64


def parse_event(data: EventBase | Mapping[str, Any] | str | bytes) -> EventBase:
    """An event model from a model, a mapping or JSON text (UTF-8 bytes); `InvalidEventError`
    otherwise. `page` and `screen` calls come back as the `Track` they become."""
    if type(data) is not dict:  # a plain dict (the common case) skips to the checks below
        data = _decoded(data)
        if isinstance(data, EventBase):
            return data
    if "type" not in data:
        raise InvalidEventError(
            "missing 'type' (one of: identify, anonymize, patch, track, group, merge, "
            "delete_user, unsuppress, page, screen, alias)"
        )
    check_values(data, "event")
    try:
        event = _EVENT_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise InvalidEventError(describe_validation_error(exc)) from None
    if isinstance(event, (Page, Screen)):
        return event.as_track()
    return event


def _decoded(data: EventBase | Mapping[str, Any] | str | bytes) -> EventBase | Mapping[str, Any]:
    """`parse_event`'s input other than a plain dict: a model ready to apply, or the
    mapping that JSON text (or UTF-8 bytes of it) holds."""
    if isinstance(data, (Page, Screen)):
        return data.as_track()
    if isinstance(data, EVENT_TYPES):
        check_values(data.model_dump(), "event")
        return data
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEventError(
                f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidEventError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
        except RecursionError:
            raise InvalidEventError(
                f"values nested more than {MAX_DEPTH} levels deep"
            ) from None
    if not isinstance(data, Mapping):
        raise InvalidEventError(f"an event is a JSON object, not {type(data).__name__}")
    return data


def check_values(value: Any, where: str) -> None:
    """`InvalidEventError` for what no backend may store: nesting deeper than `MAX_DEPTH`,
    strings (values or keys) with a lone surrogate or a NUL character. A value nested
    thousands deep is reported, never a `RecursionError`."""
    if _clean(value, 1):
        return
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, at)
        elif isinstance(item, Mapping):
            if depth > MAX_DEPTH:
                raise InvalidEventError(f"{at}: nested more than {MAX_DEPTH} levels deep")
            for key, child in item.items():
                if isinstance(key, str):
                    _check_text(key, f"{at} (a key)")
                stack.append((child, f"{at}.{key}", depth + 1))
        elif isinstance(item, (list, tuple)):
            if depth > MAX_DEPTH:
                raise InvalidEventError(f"{at}: nested more than {MAX_DEPTH} levels deep")
            for index, child in enumerate(item):
                stack.append((child, f"{at}[{index}]", depth + 1))


def _clean(value: Any, depth: int) -> bool:
    """The fast check: True when `check_values` has nothing to report (no paths built)."""
    kind = type(value)
    if kind is str:
        return "\x00" not in value and (value.isascii() or _encodable(value))
    if kind is dict:
        if depth > MAX_DEPTH:
            return False
        for key, child in value.items():
            if type(key) is str and ("\x00" in key or not (key.isascii() or _encodable(key))):
                return False
            child_kind = type(child)
            if child_kind is str:
                if "\x00" in child or not (child.isascii() or _encodable(child)):
                    return False
            elif child_kind not in _SCALARS and not _clean(child, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        if depth > MAX_DEPTH:
            return False
        return all(_clean(child, depth + 1) for child in value)
    return kind in _SCALARS or not isinstance(value, Mapping)


_SCALARS = frozenset({int, float, bool, type(None), datetime})


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(text: str, at: str) -> None:
    if text.isascii():
        if "\x00" in text:
            raise InvalidEventError(f"{at}: contains a NUL character (U+0000)")
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidEventError(
            f"{at}: contains a lone surrogate (U+{ord(text[exc.start]):04X}), which is not "
            "valid Unicode text"
        ) from None
    if "\x00" in text:
        raise InvalidEventError(f"{at}: contains a NUL character (U+0000)")


def describe_validation_error(
    exc: ValidationError, model: type[BaseModel] | None = None
) -> str:
    """Pydantic's errors in our words, one `where: what` each, with "did you mean" for
    unknown fields, event types and choices.

    `model` is the model validated (for a policy, `StatePolicy`); for events it is found
    from the event type, the first part of each error's location."""
    return "; ".join(_describe(error, model) for error in exc.errors(include_url=False))


_EXPECTED = {
    "string": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
    "datetime": "an ISO-8601 date-time", "date": "an ISO-8601 date", "dict": "an object",
    "list": "a list", "tuple": "a list", "frozen_set": "a list", "set": "a list",
    "timedelta": "a duration (seconds, or ISO-8601 such as PT30M)", "model": "an object",
    "decimal": "a number", "none": "null",
}


def _describe(error: Any, model: type[BaseModel] | None) -> str:
    from segmentql.schema.suggest import did_you_mean

    loc = tuple(error["loc"])
    kind = str(error["type"])
    ctx = error.get("ctx") or {}
    got = error.get("input")
    tag_models = {_type_name(m): m for m in EVENT_TYPES}
    root, prefix = model, ""
    if model is None and loc and isinstance(loc[0], str) and loc[0] in tag_models:
        root, loc = tag_models[loc[0]], loc[1:]
        prefix = f"{_type_name(root)} event"
    where = _path(loc)
    if kind == "union_tag_invalid":
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag", got))
        close = did_you_mean(tag, tags)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown event type '{tag}'{hint} (types: {', '.join(tags)})"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        fields = _field_names(root, loc[:-1])
        close = did_you_mean(name, fields) if fields else []
        hint = (f"; did you mean '{close[0]}'?" if close
                else f" (fields: {', '.join(sorted(fields))})" if fields else "")
        what = f"unknown field '{name}'{hint}"
        where = _path(loc[:-1])
    elif kind == "missing":
        what = f"missing field '{loc[-1]}'" if loc else "missing field"
        where = _path(loc[:-1])
    elif kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = did_you_mean(str(got), choices) if isinstance(got, str) else []
        hint = f"; did you mean '{close[0]}'?" if close else ""
        what = f"{got!r} is not one of {', '.join(choices)}{hint}"
    elif kind.endswith(("_type", "_parsing")) or kind.startswith(("datetime_", "date_")):
        base = kind.rsplit("_", 1)[0]
        for name, text in _EXPECTED.items():
            if base == name or base.startswith(name + "_") or base.startswith(name):
                expected = text
                break
        else:
            expected = "another kind of value"
        what = f"expected {expected}, got {_shown(got)}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), "?")
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        what = f"must be {words} {bound}, got {_shown(got)}"
    elif kind == "value_error":
        what = str(ctx.get("error", error["msg"]))
    else:
        message = str(error["msg"])
        what = message.replace("Input should be", "should be", 1)
    parts = [p for p in (prefix, where) if p]
    return f"{', '.join(parts)}: {what}" if parts else what


def _type_name(model: type[BaseModel]) -> str:
    field_info = model.model_fields.get("type")
    default = getattr(field_info, "default", None)
    return str(default) if default is not None else model.__name__.lower()


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def _field_names(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """The field names (and camelCase aliases) of the model at `loc` inside `model`."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(part) or next(
            (f for f in fields.values() if f.alias == part), None)
        current = None if info is None else _model_in(info.annotation)
    if current is None or not hasattr(current, "model_fields"):
        return []
    names: list[str] = []
    for name, info in current.model_fields.items():
        if name == "type":
            continue
        names.append(info.alias or name)
    return names


def _model_in(annotation: Any) -> Any:
    """The pydantic model an annotation holds (directly or as list items), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
