"""Schema types: what a variable, attribute or query node may hold.

One pydantic model, `SchemaType`, covers every kind; the kind decides which of the optional
fields mean something (`items` for lists and maps, `fields`/`open` for objects, `enum`/`format`
for strings). Types are frozen and hashable, so schemas and typed ASTs can be cached.

Every value may be absent, so every type accepts `None`: nullability is implicit, as reading an
absent attribute gives null at run time (spec §4).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class TypeKind(enum.StrEnum):
    """The kinds of value a schema can declare (plus `regex` and `function` for query nodes)."""

    NULL = "null"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"  # any number: integer, decimal or float
    DECIMAL = "decimal"
    STRING = "string"
    DATE = "date"
    TIME = "time"
    DATETIME = "datetime"
    DURATION = "duration"
    LIST = "list"
    MAP = "map"
    OBJECT = "object"
    ANY = "any"
    REGEX = "regex"  # only query literals have it
    FUNCTION = "function"  # arrow functions bound by `let`


#: Kinds a schema file may name (the two internal kinds are not among them).
DECLARABLE_KINDS: tuple[str, ...] = tuple(
    k.value for k in TypeKind if k not in (TypeKind.REGEX, TypeKind.FUNCTION)
)

NUMERIC_KINDS = frozenset({TypeKind.INTEGER, TypeKind.NUMBER, TypeKind.DECIMAL})

#: String formats with a meaning; others are kept as documentation only.
KNOWN_FORMATS: tuple[str, ...] = (
    "email", "url", "uri", "date", "time", "datetime", "uuid", "phone", "identifier",
    "country-code", "language", "currency",
)


class AttributeSpec(BaseModel):
    """A named slot of an object (or a context variable): its type and documentation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: SchemaType
    description: str = ""
    #: False, True, or a message saying what to use instead.
    deprecated: bool | str = False
    #: Computed at read time (`user's age`, `user's name`), never stored.
    virtual: bool = False

    @property
    def deprecation_message(self) -> str | None:
        if self.deprecated is False:
            return None
        return self.deprecated if isinstance(self.deprecated, str) else ""


class SchemaType(BaseModel):
    """A type in the schema. Build with the helpers below (`string()`, `list_of(t)`, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: TypeKind
    #: Allowed values of a string (case-sensitive, like string literals).
    enum: tuple[str, ...] | None = None
    #: A string format such as `email` or `url` (documentation and JSON Schema).
    format: str | None = None
    #: Element type of a list, value type of a map.
    items: SchemaType | None = None
    #: Attributes of an object, in declaration order.
    fields: tuple[AttributeSpec, ...] = ()
    #: An open object allows attributes it does not declare (of type `any`).
    open: bool = False
    #: For objects that quantifiers and collection macros iterate (`cart` iterates `items`).
    iterate: str | None = None

    # ------------------------------------------------------------------ lookups

    def field(self, name: str) -> AttributeSpec | None:
        """The declared attribute `name` (exact case first, then case-insensitive)."""
        if not self.fields:
            return None
        index = _field_index(self.fields)
        return index.get(name) or index.get(name.casefold())

    def __repr__(self) -> str:
        return f"SchemaType({self.describe()})"

    def resolve(self, name: str) -> Resolved | None:
        """How reading `name` from a value of this type resolves (spec §3), or None when
        this type has no attribute `name` (a closed object, or not an object at all).

        On an object with a `custom` object, custom attributes come first (they shadow
        standard ones); an open `custom` makes every undeclared name a custom attribute of
        type `any`.
        """
        kind = self.kind
        if kind is TypeKind.ANY:
            return Resolved(ANY, None, custom=False)
        if kind is TypeKind.MAP:
            return Resolved(self.items or ANY, None, custom=False)
        if kind is not TypeKind.OBJECT:
            return None
        custom = self.field("custom")
        custom_type = custom.type if custom is not None else None
        if custom_type is not None and custom_type.kind is TypeKind.OBJECT:
            if name.casefold() == "custom":
                return Resolved(custom_type, custom, custom=False)
            declared = custom_type.field(name)
            if declared is not None:
                return Resolved(declared.type, declared, custom=True)
        standard = self.field(name)
        if standard is not None:
            return Resolved(standard.type, standard, custom=False)
        if custom_type is not None and custom_type.kind is TypeKind.OBJECT and custom_type.open:
            return Resolved(ANY, None, custom=True)
        if custom_type is not None and custom_type.kind in (TypeKind.ANY, TypeKind.MAP):
            return Resolved(custom_type.items or ANY, None, custom=True)
        if self.open:
            return Resolved(ANY, None, custom=False)
        return None

    def readable_attributes(self) -> list[AttributeSpec]:
        """Attributes a query can read from this type: standard ones and custom ones (without
        the `custom` prefix; a custom attribute hides the standard one of the same name)."""
        if self.kind is not TypeKind.OBJECT:
            return []
        custom = self.field("custom")
        customs: list[AttributeSpec] = []
        if custom is not None and custom.type.kind is TypeKind.OBJECT:
            customs = list(custom.type.fields)
        hidden = {c.name.casefold() for c in customs}
        standard = [f for f in self.fields if f.name.casefold() not in hidden]
        return standard + customs

    @property
    def is_any(self) -> bool:
        return self.kind is TypeKind.ANY

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def element(self) -> SchemaType:
        """What iterating this value gives (`any` when unknown)."""
        if self.kind in (TypeKind.LIST, TypeKind.MAP):
            return self.items or ANY
        if self.kind is TypeKind.OBJECT and self.iterate:
            spec = self.field(self.iterate)
            if spec is not None:
                return spec.type.element
        return ANY

    # ------------------------------------------------------------------ rendering

    def describe(self) -> str:
        """A short readable name: `string`, `list[string]`, `map[string, integer]`, ..."""
        kind = self.kind
        if kind is TypeKind.LIST:
            return f"list[{(self.items or ANY).describe()}]"
        if kind is TypeKind.MAP:
            return f"map[string, {(self.items or ANY).describe()}]"
        if kind is TypeKind.OBJECT:
            if not self.fields:
                return "object"
            names = ", ".join(f.name for f in self.fields[:4])
            more = ", ..." if len(self.fields) > 4 or self.open else ""
            return f"object{{{names}{more}}}"
        if kind is TypeKind.STRING and self.enum is not None:
            return "string (one of " + ", ".join(f'"{v}"' for v in self.enum) + ")"
        if kind is TypeKind.STRING and self.format:
            return f"string ({self.format})"
        return kind.value

    def __str__(self) -> str:
        return self.describe()

    # ------------------------------------------------------------------ validation

    def accepts(self, value: object) -> bool:
        """Whether a profile value fits this type (`None` always does: values may be absent)."""
        if value is None:
            return True
        kind = self.kind
        if kind is TypeKind.ANY:
            return True
        if kind is TypeKind.NULL:
            return False
        if kind is TypeKind.BOOLEAN:
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if kind is TypeKind.INTEGER:
            if isinstance(value, int):
                return True
            return isinstance(value, float | decimal.Decimal) and _is_integral(value)
        if kind in (TypeKind.NUMBER, TypeKind.DECIMAL):
            if isinstance(value, float):
                return value == value and value not in (float("inf"), float("-inf"))
            return isinstance(value, int | decimal.Decimal)
        if kind is TypeKind.STRING:
            if not isinstance(value, str):
                return False
            return self.enum is None or value in self.enum
        if kind is TypeKind.DATE:
            if isinstance(value, dt.datetime):
                return False
            return isinstance(value, dt.date) or (
                isinstance(value, str) and parse_iso_date(value) is not None
            )
        if kind is TypeKind.TIME:
            return isinstance(value, dt.time) or (
                isinstance(value, str) and parse_iso_time(value) is not None
            )
        if kind is TypeKind.DATETIME:
            return isinstance(value, dt.datetime) or (
                isinstance(value, str) and parse_iso_datetime(value) is not None
            )
        if kind is TypeKind.DURATION:
            if isinstance(value, dt.timedelta):
                return True
            if isinstance(value, str):
                return _ISO_DURATION.fullmatch(value) is not None
            return type(value).__name__.lower().endswith("duration")
        if kind is TypeKind.LIST:
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
                return False
            item = self.items or ANY
            return item.is_any or all(item.accepts(v) for v in value)
        if kind is TypeKind.MAP:
            if not isinstance(value, Mapping):
                return False
            item = self.items or ANY
            # Keys are strings in profile data; map literals in queries may keep numbers.
            return all(
                isinstance(k, str | int) and not isinstance(k, bool) and item.accepts(v)
                for k, v in value.items()
            )
        if kind is TypeKind.OBJECT:
            if not isinstance(value, Mapping):
                return False
            for key, item_value in value.items():
                if not isinstance(key, str):
                    return False
                spec = self.field(key)
                if spec is None:
                    if not self.open:
                        return False
                elif not spec.type.accepts(item_value):
                    return False
            return True
        if kind is TypeKind.REGEX:
            return hasattr(value, "search")
        return callable(value)


# The name index of each `fields` tuple, keyed by the tuple's id; the entry holds the tuple
# itself, so the id cannot be reused while the entry lives. (Not a cached_property: pydantic's
# model_copy would copy a stale index into a copy with other fields.)
_FIELD_INDEXES: dict[int, tuple[tuple[AttributeSpec, ...], dict[str, AttributeSpec]]] = {}


def _field_index(fields: tuple[AttributeSpec, ...]) -> dict[str, AttributeSpec]:
    entry = _FIELD_INDEXES.get(id(fields))
    if entry is not None and entry[0] is fields:
        return entry[1]
    index: dict[str, AttributeSpec] = {}
    for spec in fields:
        index.setdefault(spec.name, spec)
        index.setdefault(spec.name.casefold(), spec)
    if len(_FIELD_INDEXES) > 10_000:
        _FIELD_INDEXES.clear()
    _FIELD_INDEXES[id(fields)] = (fields, index)
    return index


@dataclass(frozen=True, slots=True)
class Resolved:
    """The outcome of reading an attribute by name (see `SchemaType.resolve`)."""

    type: SchemaType
    #: The declared attribute, if the name is declared (standard or custom).
    spec: AttributeSpec | None
    #: Read from the `custom` object (`user's plan` → `user.custom.plan`).
    custom: bool


def _is_integral(value: float | decimal.Decimal) -> bool:
    try:
        return value == int(value)
    except (OverflowError, ValueError, decimal.InvalidOperation):
        return False


# ---------------------------------------------------------------------- ISO strings

_ISO_DURATION = re.compile(
    r"-?P(?=\d|T\d)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_iso_date(text: str) -> dt.date | None:
    """`YYYY-MM-DD`, or None."""
    if _ISO_DATE.fullmatch(text) is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_iso_time(text: str) -> dt.time | None:
    """`HH:MM[:SS[.fff]]` with an optional offset, or None."""
    if not text or not text[0].isdigit() or len(text) < 5:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        return None


def parse_iso_datetime(text: str) -> dt.datetime | dt.date | None:
    """An ISO-8601 date-time (or a plain date, read as its midnight), or None."""
    if len(text) < 10 or not text[:4].isdigit():
        return None
    if len(text) == 10:
        return parse_iso_date(text)
    try:
        return dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None


# ---------------------------------------------------------------------- constructors

def _t(kind: TypeKind) -> SchemaType:
    return SchemaType(kind=kind)


NULL = _t(TypeKind.NULL)
BOOLEAN = _t(TypeKind.BOOLEAN)
INTEGER = _t(TypeKind.INTEGER)
NUMBER = _t(TypeKind.NUMBER)
DECIMAL = _t(TypeKind.DECIMAL)
STRING = _t(TypeKind.STRING)
DATE = _t(TypeKind.DATE)
TIME = _t(TypeKind.TIME)
DATETIME = _t(TypeKind.DATETIME)
DURATION = _t(TypeKind.DURATION)
ANY = _t(TypeKind.ANY)
REGEX = _t(TypeKind.REGEX)
FUNCTION = _t(TypeKind.FUNCTION)
OPEN_OBJECT = SchemaType(kind=TypeKind.OBJECT, open=True)

_SIMPLE: dict[TypeKind, SchemaType] = {
    t.kind: t
    for t in (NULL, BOOLEAN, INTEGER, NUMBER, DECIMAL, STRING, DATE, TIME, DATETIME,
              DURATION, ANY, REGEX, FUNCTION)
}

_LIST_CACHE: dict[SchemaType, SchemaType] = {}
_MAP_CACHE: dict[SchemaType, SchemaType] = {}


def simple(kind: TypeKind) -> SchemaType:
    """The plain type of a kind (objects come back open and empty)."""
    if kind is TypeKind.OBJECT:
        return OPEN_OBJECT
    if kind is TypeKind.LIST:
        return list_of(ANY)
    if kind is TypeKind.MAP:
        return map_of(ANY)
    return _SIMPLE[kind]


def list_of(item: SchemaType) -> SchemaType:
    """`list[item]` (cached: the checker builds these often)."""
    found = _LIST_CACHE.get(item)
    if found is None:
        found = SchemaType(kind=TypeKind.LIST, items=item)
        if len(_LIST_CACHE) < 4096:
            _LIST_CACHE[item] = found
    return found


def map_of(value: SchemaType) -> SchemaType:
    """`map[string, value]`."""
    found = _MAP_CACHE.get(value)
    if found is None:
        found = SchemaType(kind=TypeKind.MAP, items=value)
        if len(_MAP_CACHE) < 4096:
            _MAP_CACHE[value] = found
    return found


def string(*, enum: Sequence[str] | None = None, format: str | None = None) -> SchemaType:
    if enum is None and format is None:
        return STRING
    return SchemaType(
        kind=TypeKind.STRING, enum=tuple(enum) if enum is not None else None, format=format
    )


def object_of(
    fields: Sequence[AttributeSpec], *, open: bool = False, iterate: str | None = None
) -> SchemaType:
    return SchemaType(kind=TypeKind.OBJECT, fields=tuple(fields), open=open, iterate=iterate)


AttributeSpec.model_rebuild()
SchemaType.model_rebuild()
