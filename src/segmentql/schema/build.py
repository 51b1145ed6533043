"""Turning schema documents (parsed YAML/JSON, or dicts) into `AttributeSpec`s.

The file format (docs/schema.md):

    extends: default        # the standard catalog (the default) or `none`
    variables:              # new variables, or attributes added to existing ones
      tenant:
        description: The tenant serving the request.
        fields:
          plan: {enum: [free, pro], description: The tenant's plan.}
    custom:                 # custom attributes, read without the `custom` prefix
      user:
        expertise: {enum: [Engineering, Design], description: What the user does.}
        score: integer

A type is a type expression (`string`, `list[string]`, `map[integer]`) or a mapping with
`type`, `description`, `enum`, `format`, `items`, `values`, `fields`, `open`, `iterate`,
`deprecated`, `virtual`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from segmentql.schema.document import Document, PathKey
from segmentql.schema.suggest import did_you_mean, help_for
from segmentql.schema.types import (
    ANY,
    DECLARABLE_KINDS,
    AttributeSpec,
    SchemaType,
    TypeKind,
    list_of,
    map_of,
    simple,
)

TOP_LEVEL_KEYS = ("extends", "description", "variables", "custom")
SPEC_KEYS = (
    "type", "description", "enum", "format", "items", "values", "fields", "open",
    "iterate", "deprecated", "virtual",
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_top_level(doc: Document) -> Mapping[str, Any]:
    data = doc.data
    if not isinstance(data, Mapping):
        raise doc.error(
            f"a schema must be a mapping, not {_kind_of(data)}", (),
            hint="start the file with `variables:` or `custom:`",
        )
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise doc.error(
                f"unknown top-level key {key!r}", (key,), key=True,
                hint=help_for(did_you_mean(key, TOP_LEVEL_KEYS))
                or "the keys are: " + ", ".join(TOP_LEVEL_KEYS),
            )
    extends = data.get("extends", "default")
    if extends not in ("default", "none", None):
        raise doc.error(
            f"`extends` must be `default` or `none`, not {extends!r}", ("extends",)
        )
    return data


def parse_attributes(
    raw: Any, at: PathKey, doc: Document, *, what: str = "attributes"
) -> list[AttributeSpec]:
    """A mapping of name → type spec, in order."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise doc.error(
            f"{what} must be a mapping of names to types, not {_kind_of(raw)}", at
        )
    specs: list[AttributeSpec] = []
    for name, value in raw.items():
        if not _IDENTIFIER.fullmatch(name):
            raise doc.error(
                f"invalid attribute name {name!r}", (*at, name), key=True,
                hint="names start with a letter or `_`, then letters, digits or `_`",
            )
        specs.append(parse_attribute(name, value, (*at, name), doc))
    return specs


def parse_attribute(name: str, raw: Any, at: PathKey, doc: Document) -> AttributeSpec:
    if isinstance(raw, str):
        return AttributeSpec(name=name, type=parse_type_expression(raw, at, doc))
    if not isinstance(raw, Mapping):
        raise doc.error(
            f"the type of {name!r} must be a type name or a mapping, not {_kind_of(raw)}",
            at, hint="write e.g. `string`, `list[string]` or `{type: integer, description: ...}`",
        )
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise doc.error("`description` must be a string", (*at, "description"))
    deprecated = raw.get("deprecated", False)
    if not isinstance(deprecated, bool | str):
        raise doc.error(
            "`deprecated` must be true/false or a message", (*at, "deprecated")
        )
    virtual = raw.get("virtual", False)
    if not isinstance(virtual, bool):
        raise doc.error("`virtual` must be true or false", (*at, "virtual"))
    return AttributeSpec(
        name=name,
        type=parse_type_spec(raw, at, doc),
        description=description,
        deprecated=deprecated,
        virtual=virtual,
    )


def parse_type_spec(raw: Any, at: PathKey, doc: Document) -> SchemaType:
    """A type expression string or a mapping describing a type."""
    if isinstance(raw, str):
        return parse_type_expression(raw, at, doc)
    if not isinstance(raw, Mapping):
        raise doc.error(f"expected a type, not {_kind_of(raw)}", at)
    for key in raw:
        if key not in SPEC_KEYS:
            raise doc.error(
                f"unknown key {key!r} in a type", (*at, key), key=True,
                hint=help_for(did_you_mean(key, SPEC_KEYS))
                or "the keys are: " + ", ".join(SPEC_KEYS),
            )
    type_name = raw.get("type")
    if type_name is None:
        if "fields" in raw or "open" in raw:
            type_name = "object"
        elif "enum" in raw or "format" in raw:
            type_name = "string"
        elif "items" in raw:
            type_name = "list"
        elif "values" in raw:
            type_name = "map"
        else:
            raise doc.error(
                "missing `type`", at, hint="add e.g. `type: string`; the types are "
                + ", ".join(DECLARABLE_KINDS),
            )
    if not isinstance(type_name, str):
        raise doc.error(f"`type` must be a type name, not {_kind_of(type_name)}", (*at, "type"))
    base = parse_type_expression(type_name, (*at, "type"), doc)
    kind = base.kind
    allowed = {
        TypeKind.STRING: {"enum", "format"},
        TypeKind.LIST: {"items"},
        TypeKind.MAP: {"values"},
        TypeKind.OBJECT: {"fields", "open", "iterate"},
    }.get(kind, set())
    for key in ("enum", "format", "items", "values", "fields", "open", "iterate"):
        if key in raw and key not in allowed:
            raise doc.error(
                f"`{key}` does not apply to type {kind.value}", (*at, key), key=True,
                hint=_where_key_applies(key),
            )
    if kind is TypeKind.STRING:
        return _string_type(raw, at, doc)
    if kind is TypeKind.LIST:
        if "items" in raw:
            return list_of(parse_type_spec(raw["items"], (*at, "items"), doc))
        return base
    if kind is TypeKind.MAP:
        if "values" in raw:
            return map_of(parse_type_spec(raw["values"], (*at, "values"), doc))
        return base
    if kind is TypeKind.OBJECT:
        fields = parse_attributes(raw.get("fields"), (*at, "fields"), doc, what="`fields`")
        is_open = raw.get("open", "fields" not in raw)
        if not isinstance(is_open, bool):
            raise doc.error("`open` must be true or false", (*at, "open"))
        iterate = raw.get("iterate")
        if iterate is not None:
            target = next((f for f in fields if f.name.casefold() == str(iterate).casefold()), None)
            if target is None or target.type.kind is not TypeKind.LIST:
                raise doc.error(
                    f"`iterate` must name a list attribute of this object, not {iterate!r}",
                    (*at, "iterate"),
                )
        return SchemaType(
            kind=TypeKind.OBJECT, fields=tuple(fields), open=is_open,
            iterate=str(iterate) if iterate is not None else None,
        )
    return base


def _string_type(raw: Mapping[str, Any], at: PathKey, doc: Document) -> SchemaType:
    enum = raw.get("enum")
    values: tuple[str, ...] | None = None
    if enum is not None:
        if not isinstance(enum, list) or not enum:
            raise doc.error("`enum` must be a non-empty list of strings", (*at, "enum"))
        seen: set[str] = set()
        for i, value in enumerate(enum):
            if not isinstance(value, str):
                raise doc.error(
                    f"enum values must be strings, not {_kind_of(value)}", (*at, "enum", i),
                    hint=f'quote it: "{value}"',
                )
            if value in seen:
                raise doc.error(f"duplicate enum value {value!r}", (*at, "enum", i))
            seen.add(value)
        values = tuple(enum)
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise doc.error("`format` must be a string such as `email` or `url`", (*at, "format"))
    return SchemaType(kind=TypeKind.STRING, enum=values, format=fmt)


def _where_key_applies(key: str) -> str:
    return {
        "enum": "`enum` and `format` apply to strings",
        "format": "`enum` and `format` apply to strings",
        "items": "`items` applies to `type: list`",
        "values": "`values` applies to `type: map`",
    }.get(key, "`fields`, `open` and `iterate` apply to `type: object`")


# ---------------------------------------------------------------------- type expressions

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\[)|(\])|(,))")


def parse_type_expression(text: str, at: PathKey, doc: Document) -> SchemaType:
    """`string`, `list[string]`, `map[integer]` or `map[string, integer]`, nested freely."""
    tokens: list[str] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        match = _TOKEN.match(stripped, pos)
        if match is None or match.end() == pos:
            raise doc.error(
                f"invalid type {text!r}", at,
                hint="write a type name such as `string`, or `list[T]`, `map[T]`",
            )
        tokens.append(match.group(0).strip())
        pos = match.end()
    parser = _TypeParser(tokens, text, at, doc)
    result = parser.parse()
    if parser.pos != len(tokens):
        raise doc.error(f"invalid type {text!r}: unexpected {tokens[parser.pos]!r}", at)
    return result


class _TypeParser:
    def __init__(self, tokens: list[str], text: str, at: PathKey, doc: Document) -> None:
        self.tokens = tokens
        self.text = text
        self.at = at
        self.doc = doc
        self.pos = 0

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise self.doc.error(f"invalid type {self.text!r}: it ends too early", self.at)
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _expect(self, token: str) -> None:
        got = self._next()
        if got != token:
            raise self.doc.error(
                f"invalid type {self.text!r}: expected {token!r}, found {got!r}", self.at
            )

    def parse(self) -> SchemaType:
        name = self._next()
        lowered = name.lower()
        if lowered not in DECLARABLE_KINDS:
            suggestions = did_you_mean(name, DECLARABLE_KINDS)
            raise self.doc.error(
                f"unknown type {name!r}",
                self.at,
                hint=help_for(suggestions) or "the types are " + ", ".join(DECLARABLE_KINDS),
            )
        kind = TypeKind(lowered)
        if self.pos < len(self.tokens) and self.tokens[self.pos] == "[":
            if kind not in (TypeKind.LIST, TypeKind.MAP):
                raise self.doc.error(
                    f"invalid type {self.text!r}: only list and map take a type in brackets",
                    self.at,
                )
            self.pos += 1
            inner = self.parse()
            if kind is TypeKind.MAP and self.pos < len(self.tokens) and self.tokens[self.pos] == ",":
                if inner.kind is not TypeKind.STRING:
                    raise self.doc.error(
                        f"invalid type {self.text!r}: map keys are always strings", self.at,
                        hint="write `map[string, T]` or just `map[T]`",
                    )
                self.pos += 1
                inner = self.parse()
            self._expect("]")
            return list_of(inner) if kind is TypeKind.LIST else map_of(inner)
        if kind is TypeKind.LIST:
            return list_of(ANY)
        if kind is TypeKind.MAP:
            return map_of(ANY)
        return simple(kind)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__
