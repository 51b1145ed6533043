"""The service's audiences: a YAML or JSON file of named queries, checked at start and
reloaded when it changes. A reload compiles the new file aside and swaps it in one assignment,
so requests in flight finish on the set they started with; a broken new file keeps the old
set and logs why."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from segmentql.compiler import Query, compile_query
from segmentql.compiler.audiences import AudienceSet
from segmentql.compiler.codegen import CodegenError
from segmentql.errors import QueryError

log = logging.getLogger("segmentql.service")


class AudiencesError(ValueError):
    """An audiences file that cannot be served; `problems` lists every finding."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Catalog:
    """One loaded version of the audiences."""

    queries: Mapping[str, Query] = field(default_factory=dict)
    #: SHA-256 (first 12 hex digits) of the file's bytes, shown by `/readyz`.
    version: str = "empty"
    #: The same queries compiled together (one call answers all of them; see `decide` in
    #: app.py), or None when there are none or they could not be compiled together.
    together: AudienceSet | None = None


def parse_audiences(text: str, where: str) -> dict[str, str]:
    """name → query text from a YAML/JSON document (a mapping of strings)."""
    try:
        data: Any = (json.loads(text) if where.endswith(".json") else yaml.safe_load(text))
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise AudiencesError(where, [f"not valid YAML/JSON: {exc}".replace("\n", " ")]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AudiencesError(where, ["an audiences file is a mapping of name: query"])
    problems = [
        f"{name!s}: the query must be a string, not {type(text).__name__}"
        for name, text in data.items()
        if not isinstance(name, str) or not isinstance(text, str)
    ]
    if problems:
        raise AudiencesError(where, problems)
    return dict(data)


def compile_catalog(texts: Mapping[str, str], schema: Any, version: str, where: str) -> Catalog:
    """Compile every audience (boolean queries); all errors at once, with name and place."""
    queries: dict[str, Query] = {}
    problems: list[str] = []
    for name, text in texts.items():
        try:
            queries[name] = compile_query(text, schema, expect=bool)
        except QueryError as exc:
            for d in exc.diagnostics:
                if d.is_error:
                    problems.append(
                        f"{name}: error[{d.code}] {d.message} (line {d.span.line}, column "
                        f"{d.span.column})" + (f"; help: {d.help}" if d.help else "")
                    )
    if problems:
        raise AudiencesError(where, problems)
    together: AudienceSet | None = None
    if queries:
        try:
            together = AudienceSet(queries, getattr(schema, "functions", None))
        except CodegenError as exc:  # each query compiled alone: decide one by one
            log.warning("%s: the audiences cannot be compiled together (%s); each is "
                        "evaluated alone", where, exc.message)
    return Catalog(queries, version, together)


class AudienceRegistry:
    """The current `Catalog`, from one or more files (names unique across them), reloaded
    when any of them changes."""

    def __init__(self, paths: str | Sequence[str] | None, schema: Any) -> None:
        if paths is None:
            paths = []
        elif isinstance(paths, str):
            paths = [paths]
        self.paths = [Path(p) for p in paths]
        self.schema = schema
        self._stamp: tuple[tuple[int, int] | None, ...] = ()
        self.last_error: str | None = None
        self.catalog = self._load()  # raises AudiencesError: the service refuses to start

    @property
    def where(self) -> str:
        return ", ".join(str(p) for p in self.paths)

    def _file_stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for path in self.paths:
            try:
                stat = path.stat()
            except OSError:
                stamps.append(None)
            else:
                stamps.append((stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def _load(self) -> Catalog:
        if not self.paths:
            return Catalog()
        self._stamp = self._file_stamp()
        texts: dict[str, str] = {}
        origin: dict[str, str] = {}
        digest = hashlib.sha256()
        for path in self.paths:
            where = str(path)
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise AudiencesError(where, [f"cannot read the file: {exc.strerror}"]) from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise AudiencesError(where, ["the file is not UTF-8 text"]) from None
            digest.update(raw)
            for name, query in parse_audiences(text, where).items():
                if name in texts:
                    raise AudiencesError(where, [f"{name}: already defined in {origin[name]}"])
                texts[name] = query
                origin[name] = where
        return compile_catalog(texts, self.schema, digest.hexdigest()[:12], self.where)

    def reload_if_changed(self) -> bool | None:
        """True when changed files were loaded, False when they were refused (the old set
        stays), None when nothing changed."""
        if not self.paths or self._file_stamp() == self._stamp:
            return None
        try:
            catalog = self._load()
        except AudiencesError as exc:
            self.last_error = str(exc)
            log.warning("audiences file changed but was refused, keeping version %s: %s",
                        self.catalog.version, exc)
            return False
        self.catalog = catalog
        self.last_error = None
        log.info("audiences reloaded from %s: %d audiences, version %s", self.where,
                 len(catalog.queries), catalog.version)
        return True
