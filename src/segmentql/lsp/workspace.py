"""Finding and caching the schema queries are checked against.

Order: the `segmentql.schemaPath` setting (relative to the workspace root), else the project
configuration's `schema` (`segmentql.toml` or `[tool.segmentql]`, found upwards from the
workspace root), else `segmentql.schema.yaml` / `.yml` / `.json` at the workspace root, else
the default catalog.
Audience files may name their own schema (`schema: path` relative to the file, or inline).

Limits (docs/editor.md): a schema file is read only if it is a regular file (not a FIFO, a
device such as /dev/zero or /dev/stdin, or a directory) of at most `MAX_SCHEMA_BYTES`; one
named by an audience file must also lie inside the workspace (after resolving symlinks).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segmentql.errors import SchemaError
from segmentql.schema import Schema

if TYPE_CHECKING:
    from segmentql.config import LintConfig, ProjectConfig

SCHEMA_FILE_NAMES = ("segmentql.schema.yaml", "segmentql.schema.yml", "segmentql.schema.json")

#: The largest schema file the server reads.
MAX_SCHEMA_BYTES = 2 * 1024 * 1024


def usable_schema_file(path: Path, inside: str | None = None) -> Path:
    """`path` resolved, if the server may read it as a schema; raises `SchemaError` saying
    why not. The check opens the file without blocking (a FIFO would block a plain open)
    and looks at what was opened, not only at the name."""
    resolved = Path(os.path.realpath(path))
    if inside is not None:
        root = Path(os.path.realpath(inside))
        if resolved != root and root not in resolved.parents:
            raise SchemaError("the schema file is outside the workspace", path=str(path))
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise SchemaError("schema file not found", path=str(path)) from None
    except OSError as exc:
        raise SchemaError(f"cannot read the schema file: {exc.strerror}", path=str(path)) from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode):
        raise SchemaError("the schema is not a regular file", path=str(path))
    if info.st_size > MAX_SCHEMA_BYTES:
        raise SchemaError(f"the schema file is larger than {MAX_SCHEMA_BYTES} bytes",
                          path=str(path))
    return resolved


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
        self._configs: dict[Path, tuple[float, ProjectConfig]] = {}

    def load(self, path: Path, inside: str | None = None) -> Schema:
        """The schema in `path`; raises `SchemaError` (or `OSError`) when unusable,
        including when it is not a regular file of bounded size (`usable_schema_file`)."""
        path = usable_schema_file(path, inside)
        mtime = path.stat().st_mtime
        cached = self._files.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        schema = Schema.load(path)
        self._files[path] = (mtime, schema)
        return schema

    def project(self, root: Path) -> ProjectConfig | None:
        """The project configuration for the workspace, reloaded when its file changes."""
        from segmentql.config import find_config_file, load_config

        path = find_config_file(root)
        if path is None:
            return None
        mtime = path.stat().st_mtime
        cached = self._configs.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_config(path))
            self._configs[path] = cached
        return cached[1]

    def lint(self, root: str | None) -> LintConfig:
        """The project configuration's lint settings (defaults without one, or with a broken
        one: that is reported with the schema)."""
        from segmentql.config import ConfigError, LintConfig

        if not root:
            return LintConfig()
        try:
            project = self.project(Path(root))
        except (ConfigError, OSError):
            return LintConfig()
        return LintConfig() if project is None else project.lint

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
            from segmentql.config import ConfigError

            try:
                project = self.project(Path(root))
            except ConfigError as exc:
                return SchemaChoice(Schema.default(), "default",
                                    f"{exc}; using the default schema")
            if project is not None and project.schema_path is not None:
                try:
                    return SchemaChoice(self.load(project.schema_path), str(project.schema_path))
                except (SchemaError, OSError) as exc:
                    return SchemaChoice(Schema.default(), "default",
                                        _problem(project.schema_path, exc))
            for name in SCHEMA_FILE_NAMES:
                path = Path(root) / name
                if path.is_file():
                    try:
                        return SchemaChoice(self.load(path), str(path))
                    except (SchemaError, OSError) as exc:
                        return SchemaChoice(Schema.default(), "default", _problem(path, exc))
        return SchemaChoice(Schema.default(), "default")

    def for_audience_file(
        self, file_path: str | None, entry: str | dict[str, Any], fallback: SchemaChoice,
        root: str | None = None,
    ) -> SchemaChoice:
        """The schema an audience file names in its `schema:` entry: read only from inside
        the workspace `root` (or the file's own directory when there is no workspace)."""
        if isinstance(entry, dict):
            try:
                return SchemaChoice(self.inline(entry), "inline")
            except SchemaError as exc:
                return SchemaChoice(fallback.schema, fallback.source, f"inline schema: {exc}")
        path = Path(entry)
        if not path.is_absolute() and file_path:
            path = Path(file_path).parent / path
        inside = root or (str(Path(file_path).parent) if file_path else None)
        try:
            if inside is None:
                raise SchemaError("no workspace to read the schema file from", path=str(path))
            return SchemaChoice(self.load(path, inside), str(path))
        except (SchemaError, OSError) as exc:
            return SchemaChoice(fallback.schema, fallback.source, _problem(path, exc))


def _problem(path: Path, exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"schema file not found: {path}; using the default schema"
    return f"cannot use schema {path}: {exc}; using the default schema"
