"""`Schema`: the variables a query may read, their attributes, and the host functions.

A schema is immutable: `extend`, `with_functions` return new schemas. Equality and hashing go
by `fingerprint`, a digest of every declaration and host function, so compiled-query caches
can key on `(text, schema)`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from segmentql.errors import SchemaError
from segmentql.schema.build import (
    check_top_level,
    parse_attribute,
    parse_attributes,
)
from segmentql.schema.document import Document, PathKey, from_data, read_file, read_yaml
from segmentql.schema.functions import HostFunction, host_function
from segmentql.schema.suggest import did_you_mean, help_for
from segmentql.schema.types import (
    AttributeSpec,
    SchemaType,
    TypeKind,
    object_of,
)


class Schema:
    """Variables (`user`, `session`, ...) with typed attributes, plus host functions."""

    __slots__ = ("_description", "_fingerprint", "_functions", "_index", "_variables")

    def __init__(
        self,
        variables: Sequence[AttributeSpec],
        functions: Mapping[str, HostFunction] | None = None,
        *,
        description: str = "",
    ) -> None:
        ordered: dict[str, AttributeSpec] = {}
        index: dict[str, AttributeSpec] = {}
        for spec in variables:
            folded = spec.name.casefold()
            if folded in index:
                raise SchemaError(f"duplicate variable {spec.name!r}")
            ordered[spec.name] = spec
            index[folded] = spec
        self._variables: Mapping[str, AttributeSpec] = MappingProxyType(ordered)
        self._index = index
        funcs = dict(functions or {})
        self._functions: Mapping[str, HostFunction] = MappingProxyType(funcs)
        self._fingerprint: str | None = None
        self._description = description

    # ------------------------------------------------------------------ construction

    @classmethod
    def default(cls) -> Schema:
        """The standard catalog: user, session, location, device, browser, page, campaign,
        cart, account, context, events, and the clock variables `now`/`today`/..."""
        return _default_schema()

    @classmethod
    def empty(cls) -> Schema:
        return cls([])

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Load a YAML or JSON schema file; `extends: default` (the default) builds on the
        standard catalog. Raises `SchemaError` with file, line and column."""
        doc = read_file(path)
        return _from_document(doc)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """The same format as schema files, as data."""
        return _from_document(from_data(data))

    @classmethod
    def from_yaml(cls, text: str, *, path: str | None = None) -> Schema:
        return _from_document(read_yaml(text, path=path))

    def extend(self, other: Schema | Mapping[str, Any]) -> Schema:
        """A new schema with `other`'s variables and custom attributes added to this one's
        (for a mapping, the file format without `extends`)."""
        if isinstance(other, Schema):
            merged = dict(self._index)
            order = list(self._variables.values())
            for spec in other._variables.values():
                folded = spec.name.casefold()
                if folded in merged:
                    new = _merge_attribute(merged[folded], spec, None)
                    order = [new if s.name.casefold() == folded else s for s in order]
                    merged[folded] = new
                else:
                    order.append(spec)
                    merged[folded] = spec
            functions = {**self._functions, **other._functions}
            return Schema(order, functions, description=self.description)
        doc = from_data(other)
        return _apply_document(self, doc, check_extends=False)

    def with_functions(self, **functions: Callable[..., Any]) -> Schema:
        """A new schema where queries may call these Python functions by name."""
        added = {name: host_function(name, func) for name, func in functions.items()}
        for name in added:
            if name.casefold() in self._index:
                raise SchemaError(
                    f"host function {name!r} has the name of a variable",
                    hint="choose another name",
                )
        merged = {k: v for k, v in self._functions.items()
                  if k.casefold() not in {n.casefold() for n in added}}
        merged.update(added)
        return Schema(list(self._variables.values()), merged, description=self.description)

    # ------------------------------------------------------------------ queries

    @property
    def description(self) -> str:
        return self._description

    @property
    def variables(self) -> Mapping[str, AttributeSpec]:
        """Declared variables by name (declared case)."""
        return self._variables

    @property
    def functions(self) -> Mapping[str, HostFunction]:
        """Host functions by name."""
        return self._functions

    def variable(self, name: str) -> AttributeSpec | None:
        """A variable by name, case-insensitively."""
        return self._index.get(name) or self._index.get(name.casefold())

    def function(self, name: str) -> HostFunction | None:
        found = self._functions.get(name)
        if found is not None:
            return found
        folded = name.casefold()
        for key, value in self._functions.items():
            if key.casefold() == folded:
                return value
        return None

    def type_at(self, variable: str, path: Sequence[str]) -> SchemaType | None:
        """The type read by `variable's path[0]'s path[1]...` (case-insensitive; custom
        attributes found without the `custom` prefix and shadowing standard ones); `any` past
        open objects; None for an unknown variable or a name a closed object lacks."""
        spec = self.variable(variable)
        if spec is None:
            return None
        current = spec.type
        for name in path:
            if current.kind is TypeKind.LIST and name.lstrip("-").isdigit():
                current = current.items or current.element
                continue
            resolved = current.resolve(name)
            if resolved is None:
                return None
            current = resolved.type
        return current

    def attributes_of(self, type: SchemaType) -> list[tuple[str, SchemaType, str]]:
        """(name, type, description) of what a query can read from a value of `type`, for
        completion: standard attributes and custom ones (custom shadowing standard)."""
        return [(a.name, a.type, a.description) for a in type.readable_attributes()]

    def __iter__(self) -> Iterator[AttributeSpec]:
        return iter(self._variables.values())

    # ------------------------------------------------------------------ identity

    @property
    def fingerprint(self) -> str:
        """A stable digest of every declaration and host function."""
        if self._fingerprint is None:
            payload = {
                "variables": [s.model_dump(mode="json") for s in self._variables.values()],
                "functions": sorted(f.identity for f in self._functions.values()),
            }
            text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
            self._fingerprint = hashlib.sha256(text.encode()).hexdigest()[:32]
        return self._fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return self is other or self.fingerprint == other.fingerprint

    def __repr__(self) -> str:
        names = ", ".join(self._variables)
        return f"Schema({names}; {len(self._functions)} functions)"

    # ------------------------------------------------------------------ export

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) of the variables a profile may hold."""
        from segmentql.schema.export import schema_to_json_schema

        return schema_to_json_schema(self)

    def to_dict(self) -> dict[str, Any]:
        """This schema in the file format (`extends: none`), loadable by `from_dict`."""
        from segmentql.schema.export import attribute_to_dict

        return {
            "extends": "none",
            "variables": {
                s.name: attribute_to_dict(s) for s in self._variables.values()
            },
        }


# ---------------------------------------------------------------------- building

def _from_document(doc: Document) -> Schema:
    data = check_top_level(doc)
    extends = data.get("extends", "default")
    base = Schema.default() if extends == "default" else Schema.empty()
    return _apply_document(base, doc, check_extends=True)


def _apply_document(base: Schema, doc: Document, *, check_extends: bool) -> Schema:
    data = check_top_level(doc)
    if not check_extends and "extends" in data:
        raise doc.error("`extends` is only allowed in a whole schema", ("extends",), key=True)
    variables: dict[str, AttributeSpec] = {s.name.casefold(): s for s in base}
    order: list[str] = [s.name.casefold() for s in base]
    raw_variables = data.get("variables") or {}
    if not isinstance(raw_variables, Mapping):
        raise doc.error("`variables` must be a mapping of variable names to types",
                        ("variables",))
    for spec in parse_attributes(raw_variables, ("variables",), doc, what="`variables`"):
        folded = spec.name.casefold()
        if folded in variables:
            variables[folded] = _merge_attribute(
                variables[folded], spec, raw_variables[spec.name]
            )
        else:
            variables[folded] = spec
            order.append(folded)
    raw_custom = data.get("custom") or {}
    if not isinstance(raw_custom, Mapping):
        raise doc.error("`custom` must map variable names to custom attributes", ("custom",))
    for var_name, attrs in raw_custom.items():
        at: PathKey = ("custom", var_name)
        folded = var_name.casefold()
        target = variables.get(folded)
        if target is None:
            raise doc.error(
                f"custom attributes for unknown variable {var_name!r}", at, key=True,
                hint=help_for(did_you_mean(var_name, [variables[k].name for k in order]))
                or "declare the variable under `variables:` first",
            )
        if target.type.kind is not TypeKind.OBJECT:
            raise doc.error(
                f"variable {target.name!r} is a {target.type.describe()}, not an object; "
                "it cannot have custom attributes", at, key=True,
            )
        customs = parse_attributes(attrs, at, doc, what="custom attributes")
        variables[folded] = _add_custom(target, customs)
    return Schema([variables[k] for k in order], dict(base.functions),
                  description=str(data.get("description") or base.description))


def _add_custom(target: AttributeSpec, customs: list[AttributeSpec]) -> AttributeSpec:
    obj = target.type
    existing = obj.field("custom")
    if existing is not None and existing.type.kind is TypeKind.OBJECT:
        custom_type = existing.type
        fields = _merge_fields(custom_type.fields, customs, None)
        new_custom = existing.model_copy(
            update={"type": custom_type.model_copy(update={"fields": tuple(fields)})}
        )
        new_fields = [new_custom if f is existing else f for f in obj.fields]
    else:
        new_custom = AttributeSpec(
            name="custom",
            type=object_of(customs, open=True),
            description="Custom attributes the application stores; read without the prefix.",
        )
        new_fields = [f for f in obj.fields if f.name.casefold() != "custom"] + [new_custom]
    new_type = obj.model_copy(update={"fields": tuple(new_fields)})
    return target.model_copy(update={"type": new_type})


def _merge_attribute(old: AttributeSpec, new: AttributeSpec, raw: Any) -> AttributeSpec:
    """`new` declared again over `old`: objects gain fields (recursively), anything else is
    replaced. An object keeps its openness unless the new declaration says `open:`."""
    if old.type.kind is TypeKind.OBJECT and new.type.kind is TypeKind.OBJECT:
        raw_map = raw if isinstance(raw, Mapping) else {}
        raw_fields = raw_map.get("fields") if isinstance(raw_map.get("fields"), Mapping) else None
        fields = _merge_fields(old.type.fields, list(new.type.fields), raw_fields)
        is_open = raw_map.get("open", old.type.open)
        merged_type = old.type.model_copy(
            update={"fields": tuple(fields), "open": bool(is_open),
                    "iterate": new.type.iterate or old.type.iterate}
        )
        return old.model_copy(
            update={
                "type": merged_type,
                "description": new.description or old.description,
                "deprecated": new.deprecated or old.deprecated,
            }
        )
    if not new.description and old.description:
        return new.model_copy(update={"description": old.description})
    return new


def _merge_fields(
    old: Sequence[AttributeSpec], new: Sequence[AttributeSpec], raw: Mapping[str, Any] | None
) -> list[AttributeSpec]:
    out = list(old)
    positions = {f.name.casefold(): i for i, f in enumerate(out)}
    for spec in new:
        folded = spec.name.casefold()
        if folded in positions:
            i = positions[folded]
            out[i] = _merge_attribute(out[i], spec, (raw or {}).get(spec.name))
        else:
            positions[folded] = len(out)
            out.append(spec)
    return out


@lru_cache(maxsize=1)
def _default_schema() -> Schema:
    text = resources.files("segmentql.schema").joinpath("default.yaml").read_text("utf-8")
    doc = read_yaml(text, path="segmentql/schema/default.yaml")
    schema = _from_document_standalone(doc)
    return schema


def _from_document_standalone(doc: Document) -> Schema:
    data = check_top_level(doc)
    if data.get("extends", "default") != "none":
        raise doc.error("the default catalog must say `extends: none`", ("extends",))
    return _apply_document(Schema.empty(), doc, check_extends=True)


__all__ = ["Schema", "parse_attribute"]
