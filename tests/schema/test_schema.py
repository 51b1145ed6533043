"""Schema: the default catalog, lookups, extension, identity and export."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmentql.errors import SchemaError
from segmentql.schema import (
    ANY,
    INTEGER,
    STRING,
    AttributeSpec,
    Schema,
    SchemaType,
    TypeKind,
    list_of,
    map_of,
    object_of,
    string,
)

STANDARD_VARIABLES = (
    "user", "session", "location", "device", "browser", "page", "campaign", "cart",
    "account", "context", "events", "now", "today", "yesterday", "tomorrow",
)
USER_ATTRIBUTES = (
    "firstName", "lastName", "name", "birthDate", "age", "gender", "email", "alternateEmail",
    "phone", "alternatePhone", "address", "avatar", "company", "companyUrl", "jobTitle",
    "interests", "activities", "id", "stats", "custom",
)


def _all_attributes(spec: AttributeSpec, path: str) -> Iterator[tuple[str, AttributeSpec]]:
    yield path, spec
    t = spec.type
    while t.kind in (TypeKind.LIST, TypeKind.MAP) and t.items is not None:
        t = t.items
    for child in t.fields:
        yield from _all_attributes(child, f"{path}.{child.name}")


def test_default_catalog_has_the_standard_variables() -> None:
    schema = Schema.default()
    assert set(STANDARD_VARIABLES) <= set(schema.variables)


def test_every_default_attribute_has_a_description() -> None:
    missing = [
        path
        for spec in Schema.default()
        for path, attr in _all_attributes(spec, spec.name)
        if not attr.description.strip()
    ]
    assert missing == []


def test_default_user_attributes() -> None:
    user = Schema.default().variables["user"].type
    assert sorted(f.name for f in user.fields) == sorted(USER_ATTRIBUTES)
    assert user.field("age") is not None and user.field("age").virtual  # type: ignore[union-attr]
    assert Schema.default().type_at("user", ["gender"]) == string(
        enum=("male", "female", "neutral", "unknown")
    )
    assert Schema.default().type_at("user", ["interests"]) == list_of(STRING)
    assert Schema.default().type_at("user", ["stats", "sessions"]) == INTEGER
    assert Schema.default().type_at("now", []).kind is TypeKind.DATETIME  # type: ignore[union-attr]
    assert Schema.default().type_at("today", []).kind is TypeKind.DATE  # type: ignore[union-attr]


def test_type_at_is_case_insensitive_and_custom_aware() -> None:
    schema = Schema.default()
    assert schema.type_at("USER", ["EMAIL"]) == schema.type_at("user", ["email"])
    assert schema.type_at("user", ["expertise"]) == ANY  # open custom
    assert schema.type_at("user", ["address", "citi"]) is None  # closed object
    assert schema.type_at("nobody", []) is None
    assert schema.type_at("location", ["anything"]) == ANY  # open object
    assert schema.type_at("cart", ["items", "0", "price"]).kind is TypeKind.NUMBER  # type: ignore[union-attr]


def test_custom_attributes_shadow_standard_ones() -> None:
    schema = Schema.default().extend(
        {"custom": {"user": {"expertise": {"enum": ["Engineering", "Design"]},
                             "email": "integer"}}}
    )
    assert schema.type_at("user", ["expertise"]) == string(enum=("Engineering", "Design"))
    assert schema.type_at("user", ["Email"]) == INTEGER
    assert schema.type_at("user", ["custom", "expertise"]) == string(
        enum=("Engineering", "Design")
    )
    names = [name for name, _, _ in schema.attributes_of(schema.variables["user"].type)]
    assert names.count("email") == 1 and "expertise" in names


def test_extend_returns_a_new_schema_and_leaves_the_original() -> None:
    base = Schema.default()
    extended = base.extend({"variables": {"tenant": {"fields": {"plan": "string"}}}})
    assert "tenant" in extended.variables and "tenant" not in base.variables
    assert extended.type_at("tenant", ["plan"]) == STRING
    assert extended.type_at("tenant", ["other"]) is None  # fields given: closed
    assert base.fingerprint != extended.fingerprint


def test_extend_adds_fields_to_an_existing_object_and_keeps_it_open_or_closed() -> None:
    schema = Schema.default().extend(
        {"variables": {"location": {"fields": {"zone": "integer"}},
                       "campaign": {"fields": {"id": "string"}}}}
    )
    assert schema.type_at("location", ["zone"]) == INTEGER
    assert schema.type_at("location", ["city"]) == STRING
    assert schema.type_at("location", ["other"]) == ANY  # still open
    assert schema.type_at("campaign", ["id"]) == STRING
    assert schema.type_at("campaign", ["other"]) is None  # still closed


def test_extend_with_another_schema() -> None:
    other = Schema.from_dict({"extends": "none", "variables": {"tenant": "map[string]"}})
    merged = Schema.default().extend(other)
    assert merged.type_at("tenant", ["x"]) == STRING
    assert "user" in merged.variables


def test_extends_none_gives_a_standalone_schema() -> None:
    schema = Schema.from_dict({"extends": "none", "variables": {"x": "integer"}})
    assert list(schema.variables) == ["x"]


def test_fingerprint_is_stable_and_schemas_are_hashable() -> None:
    a = Schema.from_dict({"custom": {"user": {"plan": "string"}}})
    b = Schema.from_dict({"custom": {"user": {"plan": "string"}}})
    c = Schema.from_dict({"custom": {"user": {"plan": "integer"}}})
    assert a == b and hash(a) == hash(b) and a.fingerprint == b.fingerprint
    assert a != c
    assert {a: 1}[b] == 1
    assert len(a.fingerprint) == 32


def test_schema_types_are_frozen() -> None:
    t = string(enum=("a",))
    with pytest.raises(Exception, match="frozen"):
        t.kind = TypeKind.INTEGER  # type: ignore[misc]


def test_load_yaml_and_json_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "schema.yaml"
    yaml_file.write_text(
        "custom:\n  user:\n    plan: {enum: [free, pro], description: The plan.}\n"
        "variables:\n  tenant:\n    description: The tenant.\n    fields:\n"
        "      tier: integer\n"
    )
    json_file = tmp_path / "schema.json"
    json_file.write_text(json.dumps({
        "custom": {"user": {"plan": {"enum": ["free", "pro"], "description": "The plan."}}},
        "variables": {"tenant": {"description": "The tenant.",
                                 "fields": {"tier": "integer"}}},
    }))
    from_yaml = Schema.load(yaml_file)
    from_json = Schema.load(json_file)
    assert from_yaml == from_json
    assert from_yaml.type_at("user", ["plan"]) == string(enum=("free", "pro"))
    assert from_yaml.variable("TENANT") is not None


def test_to_dict_round_trips() -> None:
    schema = Schema.default().extend({"custom": {"user": {"plan": {"enum": ["a", "b"]}}}})
    assert Schema.from_dict(schema.to_dict()) == schema


def test_type_expressions() -> None:
    schema = Schema.from_dict({"extends": "none", "variables": {
        "a": "list[map[string, list[integer]]]", "b": "map[number]", "c": "list",
        "d": {"type": "list", "items": {"fields": {"x": "string"}}},
    }})
    assert schema.variables["a"].type == list_of(map_of(list_of(INTEGER)))
    assert schema.variables["b"].type.describe() == "map[string, number]"
    assert schema.variables["c"].type == list_of(ANY)
    assert schema.type_at("d", ["0", "x"]) == STRING


def test_json_schema_export() -> None:
    exported = Schema.default().json_schema()
    assert exported["$schema"].startswith("https://json-schema.org/")
    user = exported["properties"]["user"]
    assert user["properties"]["email"]["format"] == "email"
    assert user["properties"]["gender"]["enum"][:2] == ["male", "female"]
    assert user["properties"]["age"]["readOnly"] is True
    assert user["additionalProperties"] is False  # unknown names go to `custom`
    assert "additionalProperties" not in user["properties"]["custom"]
    assert exported["properties"]["user"]["properties"]["interests"]["items"]["type"] == [
        "string", "null"
    ]
    assert "now" not in exported["properties"]
    json.dumps(exported)  # serialisable


def test_deprecated_and_virtual_flags_load() -> None:
    schema = Schema.from_dict({"custom": {"user": {
        "tier": {"type": "string", "deprecated": "use `plan`", "description": "Old."},
    }}})
    spec = schema.variables["user"].type.field("custom").type.field("tier")  # type: ignore[union-attr]
    assert spec is not None and spec.deprecation_message == "use `plan`"


@pytest.mark.parametrize(
    ("t", "value", "ok"),
    [
        (INTEGER, 3, True),
        (INTEGER, 3.0, True),
        (INTEGER, 3.5, False),
        (INTEGER, True, False),
        (INTEGER, "3", False),
        (INTEGER, None, True),
        (SchemaType(kind=TypeKind.NUMBER), decimal.Decimal("1.5"), True),
        (SchemaType(kind=TypeKind.NUMBER), float("nan"), False),
        (STRING, "x", True),
        (string(enum=("a", "b")), "c", False),
        (string(enum=("a", "b")), "a", True),
        (SchemaType(kind=TypeKind.DATE), "2024-02-30", False),
        (SchemaType(kind=TypeKind.DATE), "2024-02-29", True),
        (SchemaType(kind=TypeKind.DATE), dt.datetime(2024, 1, 1), False),
        (SchemaType(kind=TypeKind.DATETIME), "2024-02-29T10:00:00Z", True),
        (SchemaType(kind=TypeKind.TIME), "10:30", True),
        (SchemaType(kind=TypeKind.DURATION), "P1DT2H", True),
        (SchemaType(kind=TypeKind.DURATION), dt.timedelta(hours=1), True),
        (list_of(STRING), ["a", "b"], True),
        (list_of(STRING), ["a", 1], False),
        (list_of(STRING), "ab", False),
        (map_of(INTEGER), {"a": 1}, True),
        (map_of(INTEGER), {"a": "1"}, False),
        (object_of([AttributeSpec(name="x", type=INTEGER)]), {"X": 1}, True),
        (object_of([AttributeSpec(name="x", type=INTEGER)]), {"y": 1}, False),
        (object_of([AttributeSpec(name="x", type=INTEGER)], open=True), {"y": 1}, True),
        (ANY, object(), True),
    ],
)
def test_accepts(t: SchemaType, value: object, ok: bool) -> None:
    assert t.accepts(value) is ok


def test_describe() -> None:
    assert list_of(STRING).describe() == "list[string]"
    assert map_of(INTEGER).describe() == "map[string, integer]"
    assert string(enum=("a", "b")).describe() == 'string (one of "a", "b")'
    assert string(format="email").describe() == "string (email)"
    assert Schema.default().variables["campaign"].type.describe().startswith("object{name")


def test_schema_error_is_a_segmentql_error() -> None:
    from segmentql.errors import SegmentqlError

    with pytest.raises(SegmentqlError):
        Schema.from_dict({"variables": {"x": "strng"}})
    assert issubclass(SchemaError, SegmentqlError)


def test_schemas_cannot_be_changed_in_place() -> None:
    schema = Schema.default()
    with pytest.raises(AttributeError):
        schema.description = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        schema.variables["x"] = schema.variables["user"]  # type: ignore[index]
