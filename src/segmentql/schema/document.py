"""Reading schema files (YAML or JSON) into plain data, remembering where each value was.

The loader never lets a yaml/json exception out: syntax errors and duplicate keys (including
keys that differ only in case, since attribute names are case-insensitive) become one
`SchemaError` with file, line and column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from segmentql.errors import SchemaError

PathKey = tuple[str | int, ...]

# libyaml's parser when available (same nodes and marks, several times faster).
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Document:
    """Plain data plus the (line, column) of each value and mapping key, by data path."""

    data: Any
    path: str | None = None
    #: Position of the value at a data path (1-based line and column).
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    #: Position of the key that introduces the value at a data path.
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def where(self, at: PathKey, *, key: bool = False) -> tuple[int | None, int | None]:
        """Best known position for a data path (falls back to the nearest parent)."""
        table = self.keys if key else self.values
        probe = at
        while True:
            found = table.get(probe) or self.values.get(probe)
            if found is not None:
                return found
            if not probe:
                return None, None
            probe = probe[:-1]

    def error(self, message: str, at: PathKey, *, key: bool = False,
              hint: str | None = None) -> SchemaError:
        line, column = self.where(at, key=key)
        return SchemaError(message, path=self.path, line=line, column=column, hint=hint)


def read_file(path: str | Path) -> Document:
    """Read a `.yaml`/`.yml`/`.json` schema file (other suffixes are read as YAML)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError("schema file not found", path=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read the schema file: {exc}", path=name) from None
    if name.lower().endswith(".json"):
        return read_json(text, path=name)
    return read_yaml(text, path=name)


def read_json(text: str, *, path: str | None = None) -> Document:
    try:
        data = json.loads(text, object_pairs_hook=_pairs_without_duplicates)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"invalid JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno,
            hint="check for a missing comma, quote or bracket near this position",
        ) from None
    except _DuplicateKey as exc:
        # json gives no positions for keys; find them with the YAML reader (JSON is YAML).
        try:
            read_yaml(text, path=path)
        except SchemaError as positioned:
            raise positioned from None
        raise SchemaError(str(exc), path=path) from None
    try:
        located = read_yaml(text, path=path)
    except SchemaError:
        return Document(data, path)
    located.data = data
    return located


class _DuplicateKey(Exception):
    pass


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for key, value in pairs:
        folded = key.casefold()
        if folded in seen:
            raise _DuplicateKey(f"duplicate key {key!r} (already defined as {seen[folded]!r})")
        seen[folded] = key
        out[key] = value
    return out


def read_yaml(text: str, *, path: str | None = None) -> Document:
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise SchemaError(
            f"invalid YAML: {problem}",
            path=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="check indentation, colons and quotes near this position",
        ) from None
    except yaml.YAMLError as exc:
        raise SchemaError(f"invalid YAML: {exc}", path=path) from None
    document = Document(None, path)
    if node is None:
        document.data = {}
        return document
    document.data = _convert(node, (), document, yaml.SafeLoader(""))
    return document


def _convert(node: yaml.Node, at: PathKey, doc: Document, loader: yaml.SafeLoader) -> Any:
    doc.values[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            folded = key.casefold()
            if folded in seen:
                first = seen[folded]
                same = "" if first == key else f" (names are case-insensitive: {first!r})"
                raise SchemaError(
                    f"duplicate key {key!r}{same}",
                    path=doc.path, line=position[0], column=position[1],
                    hint="remove one of the two entries or rename it",
                )
            seen[folded] = key
            doc.keys[(*at, key)] = position
            out[key] = _convert(value_node, (*at, key), doc, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*at, i), doc, loader) for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise SchemaError(
            f"invalid YAML value: {exc}", path=doc.path,
            line=node.start_mark.line + 1, column=node.start_mark.column + 1,
        ) from None


def from_data(data: Mapping[str, Any] | Any, *, path: str | None = None) -> Document:
    """A document for data built in code (no positions)."""
    return Document(data, path)
