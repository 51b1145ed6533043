"""Exporting schemas: JSON Schema of profile variables, and the schema file format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from segmentql.schema.types import AttributeSpec, SchemaType, TypeKind

if TYPE_CHECKING:
    from segmentql.schema.model import Schema

_FORMATS = {"url": "uri", "uri": "uri", "email": "email", "date": "date", "time": "time",
            "datetime": "date-time", "uuid": "uuid"}


def type_to_json_schema(t: SchemaType) -> dict[str, Any]:
    """JSON Schema of one type; every value may also be null (absent attributes are null)."""
    kind = t.kind
    out: dict[str, Any]
    if kind is TypeKind.ANY:
        return {}
    if kind is TypeKind.NULL:
        return {"type": "null"}
    if kind is TypeKind.BOOLEAN:
        out = {"type": ["boolean", "null"]}
    elif kind is TypeKind.INTEGER:
        out = {"type": ["integer", "null"]}
    elif kind in (TypeKind.NUMBER, TypeKind.DECIMAL):
        out = {"type": ["number", "null"]}
    elif kind is TypeKind.STRING:
        out = {"type": ["string", "null"]}
        if t.enum is not None:
            out["enum"] = [*t.enum, None]
        if t.format in _FORMATS:
            out["format"] = _FORMATS[t.format]
    elif kind is TypeKind.DATE:
        out = {"type": ["string", "null"], "format": "date"}
    elif kind is TypeKind.TIME:
        out = {"type": ["string", "null"], "format": "time"}
    elif kind is TypeKind.DATETIME:
        out = {"type": ["string", "null"], "format": "date-time"}
    elif kind is TypeKind.DURATION:
        out = {"type": ["string", "null"], "format": "duration"}
    elif kind is TypeKind.LIST:
        out = {"type": ["array", "null"], "items": type_to_json_schema(t.items or t.element)}
    elif kind is TypeKind.MAP:
        out = {"type": ["object", "null"],
               "additionalProperties": type_to_json_schema(t.items or t.element)}
    elif kind is TypeKind.OBJECT:
        out = {"type": ["object", "null"],
               "properties": {f.name: attribute_to_json_schema(f) for f in t.fields}}
        if not t.open:
            out["additionalProperties"] = False
    else:  # regex, function: not profile data
        out = {}
    return out


def attribute_to_json_schema(spec: AttributeSpec) -> dict[str, Any]:
    out = type_to_json_schema(spec.type)
    if spec.description:
        out["description"] = spec.description
    if spec.deprecated is not False:
        out["deprecated"] = True
    if spec.virtual:
        out["readOnly"] = True
    return out


def schema_to_json_schema(schema: Schema) -> dict[str, Any]:
    clock = {"now", "today", "yesterday", "tomorrow"}
    properties = {
        s.name: attribute_to_json_schema(s) for s in schema if s.name.casefold() not in clock
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "segmentql variables",
        "description": schema.description or "The variables a segmentql query may read.",
        "type": "object",
        "properties": properties,
    }


def type_to_dict(t: SchemaType) -> str | dict[str, Any]:
    """A type in the file format (a type expression when that says it all)."""
    kind = t.kind
    if kind is TypeKind.STRING and (t.enum is not None or t.format):
        out: dict[str, Any] = {"type": "string"}
        if t.enum is not None:
            out["enum"] = list(t.enum)
        if t.format:
            out["format"] = t.format
        return out
    if kind in (TypeKind.LIST, TypeKind.MAP):
        inner = type_to_dict(t.items or t.element)
        if isinstance(inner, str):
            return f"{kind.value}[{inner}]"
        return {"type": kind.value, "items" if kind is TypeKind.LIST else "values": inner}
    if kind is TypeKind.OBJECT:
        out = {"type": "object", "open": t.open}
        if t.fields:
            out["fields"] = {f.name: attribute_to_dict(f) for f in t.fields}
        if t.iterate:
            out["iterate"] = t.iterate
        return out
    return kind.value


def attribute_to_dict(spec: AttributeSpec) -> str | dict[str, Any]:
    body = type_to_dict(spec.type)
    extra: dict[str, Any] = {}
    if spec.description:
        extra["description"] = spec.description
    if spec.deprecated is not False:
        extra["deprecated"] = spec.deprecated
    if spec.virtual:
        extra["virtual"] = True
    if not extra:
        return body
    if isinstance(body, str):
        return {"type": body, **extra}
    return {**body, **extra}


def catalog_markdown(schema: Schema) -> str:
    """A Markdown table per variable: attribute path, type, description (docs/schema.md)."""
    lines: list[str] = []
    for spec in schema:
        lines += [f"### `{spec.name}`", "", spec.description, ""]
        t = spec.type
        if t.kind is not TypeKind.OBJECT and not (
            t.kind is TypeKind.LIST and t.element.kind is TypeKind.OBJECT
        ):
            lines += [f"Type: `{t.describe()}`.", ""]
            continue
        if t.kind is TypeKind.LIST:
            lines += [f"Type: `{t.describe()}`, each item:", ""]
            t = t.element
        openness = "open: other names are allowed, of type `any`" if t.open else \
            "closed: other names are errors (Q201)"
        if t.field("custom") is not None:
            openness = "other names are custom attributes (`custom`, open)"
        lines += [f"Object, {openness}.", "", "| Attribute | Type | Description |",
                  "|---|---|---|"]
        for path, attr in _flatten(t, ""):
            flags = []
            if attr.virtual:
                flags.append("virtual")
            if attr.deprecated is not False:
                flags.append("deprecated")
            suffix = f" ({', '.join(flags)})" if flags else ""
            lines.append(
                f"| `{path}` | `{attr.type.describe()}`{suffix} | {attr.description} |"
            )
        lines.append("")
    return "\n".join(lines)


def _flatten(t: SchemaType, prefix: str) -> list[tuple[str, AttributeSpec]]:
    out: list[tuple[str, AttributeSpec]] = []
    for attr in t.fields:
        path = f"{prefix}{attr.name}"
        out.append((path, attr))
        inner = attr.type
        if inner.kind is TypeKind.LIST and inner.element.kind is TypeKind.OBJECT:
            out += _flatten(inner.element, f"{path}[].")
        elif inner.kind is TypeKind.OBJECT and attr.name != "custom":
            out += _flatten(inner, f"{path}.")
    return out
