"""Finding and caching the schema queries are checked against.

Order: the `segmentql.schemaPath` setting (relative to the workspace root), else
`segmentql.schema.yaml` / `.yml` / `.json` at the workspace root, else the default catalog.
Audience files may name their own schema (`schema: path` relative to the file, or inline).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmentql.errors import SchemaError
from segmentql.schema import Schema

SCHEMA_FILE_NAMES = ("segmentql.schema.yaml", "segmentql.schema.yml", "segmentql.schema.json")


@dataclass(frozen=True, slots=True)
class SchemaChoice:
    """The schema to use, where it came from, and why another one could not be used."""

    schema: Schema
    source: str
    problem: str | None = None


class SchemaCache:
    """Schemas by file, reloaded when the file's modification time changes."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[float, Schema]] = {}
        self._inline: dict[str, Schema] = {}

    def load(self, path: Path) -> Schema:
        """The schema in `path`; raises `SchemaError` (or `OSError`) when unusable."""
        mtime = path.stat().st_mtime
        cached = self._files.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        schema = Schema.load(path)
        self._files[path] = (mtime, schema)
        return schema

    def inline(self, data: dict[str, Any]) -> Schema:
        key = repr(sorted(data.items(), key=lambda kv: str(kv[0])))
        if key not in self._inline:
            if len(self._inline) > 64:
                self._inline.clear()
            self._inline[key] = Schema.from_dict(data)
        return self._inline[key]

    def choose(self, root: str | None, setting: str | None) -> SchemaChoice:
        """The workspace schema (see the module docstring)."""
        if setting:
            path = Path(os.path.expanduser(setting))
            if not path.is_absolute() and root:
                path = Path(root) / path
            try:
                return SchemaChoice(self.load(path), str(path))
            except (SchemaError, OSError) as exc:
                return SchemaChoice(Schema.default(), "default", _problem(path, exc))
        if root:
            for name in SCHEMA_FILE_NAMES:
                path = Path(root) / name
                if path.is_file():
                    try:
                        return SchemaChoice(self.load(path), str(path))
                    except (SchemaError, OSError) as exc:
                        return SchemaChoice(Schema.default(), "default", _problem(path, exc))
        return SchemaChoice(Schema.default(), "default")

    def for_audience_file(
        self, file_path: str | None, entry: str | dict[str, Any], fallback: SchemaChoice
    ) -> SchemaChoice:
        """The schema an audience file names in its `schema:` entry."""
        if isinstance(entry, dict):
            try:
                return SchemaChoice(self.inline(entry), "inline")
            except SchemaError as exc:
                return SchemaChoice(fallback.schema, fallback.source, f"inline schema: {exc}")
        path = Path(entry)
        if not path.is_absolute() and file_path:
            path = Path(file_path).parent / path
        try:
            return SchemaChoice(self.load(path), str(path))
        except (SchemaError, OSError) as exc:
            return SchemaChoice(fallback.schema, fallback.source, _problem(path, exc))


def _problem(path: Path, exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"schema file not found: {path}; using the default schema"
    return f"cannot use schema {path}: {exc}; using the default schema"
