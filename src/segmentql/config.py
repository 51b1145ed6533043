"""The one project configuration every tool reads: `segmentql.toml` or `[tool.segmentql]`.

    # pyproject.toml                          # or segmentql.toml, the same keys at top level
    [tool.segmentql]
    schema = "segmentql.schema.yaml"          # relative to this file
    audiences = ["audiences.yaml"]
    time_zone = "Europe/Berlin"
    store = "profiles.sqlite"                 # a path (relative to this file) or postgresql://...

    [tool.segmentql.limits]
    max_length = 500
    max_depth = 64
    budget_steps = 100000                     # the evaluation budget (--budget-steps ...)

    [tool.segmentql.lint]
    select = ["Q2"]                           # codes or code prefixes
    ignore = ["Q202"]
    strict = true                             # warnings count as errors

    [tool.segmentql.serve]                    # read by `segmentql serve`; an open table

`find_config()` looks in the working directory and then each parent: in each directory a
`segmentql.toml` wins over a `pyproject.toml`, and a `pyproject.toml` counts only when it has a
`[tool.segmentql]` table. The CLI, the pytest plugin, the language server and the service all
call it, so a query clean in the editor is clean in CI.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from segmentql.errors import SegmentqlError

if TYPE_CHECKING:
    from segmentql.schema import Schema

CONFIG_FILE = "segmentql.toml"
PYPROJECT = "pyproject.toml"

KEYS = ("schema", "audiences", "time_zone", "store", "limits", "lint", "serve")
LINT_KEYS = ("select", "ignore", "strict")
#: Limits this module checks (positive whole numbers): the checker's length and depth, and
#: the evaluation budget (the defaults of `--budget-steps/-size/-depth`); any other key of
#: `[limits]` is passed on unchecked.
KNOWN_LIMITS = ("max_length", "max_depth", "budget_steps", "budget_size", "budget_depth")
DEFAULT_MAX_LENGTH = 500
DEFAULT_MAX_DEPTH = 64

_CODE = re.compile(r"Q\d{0,3}\Z")


class ConfigError(SegmentqlError):
    """A configuration file that cannot be used: what is wrong, in which file, on which line."""

    def __init__(self, message: str, *, path: Path | str, line: int | None = None,
                 hint: str | None = None) -> None:
        self.message = message
        self.path = str(path)
        self.line = line
        self.hint = hint
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}" + (f" ({hint})" if hint else ""))


@dataclass(frozen=True, slots=True)
class LintConfig:
    """Which codes are reported and whether warnings fail a run (as in ruff)."""

    #: Codes or prefixes to report (`"Q2"`, `"Q202"`); empty means every code.
    select: tuple[str, ...] = ()
    #: Codes or prefixes never reported; the longer (more specific) of a matching select and
    #: ignore entry wins, so `select = ["Q202"], ignore = ["Q2"]` keeps Q202.
    ignore: tuple[str, ...] = ()
    #: Warnings count as errors for the exit status.
    strict: bool = False

    def enabled(self, code: str) -> bool:
        """Whether diagnostics with `code` are reported."""
        selected = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        if self.select and selected < 0:
            return False
        ignored = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return ignored < 0 or selected > ignored

    def merged(self, *, select: tuple[str, ...] | None = None,
               ignore: tuple[str, ...] | None = None, strict: bool | None = None) -> LintConfig:
        """These settings with command-line values in place of the file's: `select`
        replaces the file's list, `ignore` adds to it, `strict=True` turns it on."""
        return LintConfig(
            select=self.select if select is None else select,
            ignore=self.ignore + (ignore or ()),
            strict=self.strict if strict is None else strict,
        )


def check_code_list(values: list[str] | tuple[str, ...], what: str) -> tuple[str, ...]:
    """Code patterns upper-cased and validated (`Q`, `Q2`, `Q20`, `Q202`); `ValueError` else."""
    out: list[str] = []
    for value in values:
        code = value.strip().upper()
        if not _CODE.match(code):
            raise ValueError(f"{what}: {value!r} is not a code or code prefix such as Q202 or Q2")
        out.append(code)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    """A loaded project configuration; paths are absolute, resolved against `root`."""

    path: Path
    root: Path
    schema_path: Path | None = None
    audience_paths: tuple[Path, ...] = ()
    time_zone: str = "UTC"
    #: A store file path (absolute) or a `postgresql://` URL, as `ProfileStore.open` takes.
    store: str | None = None
    #: `max_length` and `max_depth` (always present) and every other `[limits]` key as given.
    limits: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({
        "max_length": DEFAULT_MAX_LENGTH, "max_depth": DEFAULT_MAX_DEPTH,
    }))
    lint: LintConfig = LintConfig()
    #: The `[serve]` table for `segmentql serve`, a read-only mapping it validates itself.
    serve: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def max_length(self) -> int:
        return int(self.limits["max_length"])

    @property
    def max_depth(self) -> int:
        return int(self.limits["max_depth"])

    def load_schema(self) -> Schema:
        """The configured schema (the standard catalog when none is configured).

        Raises `ConfigError` when the file is missing and `SchemaError` when it is broken."""
        from segmentql.schema import Schema

        if self.schema_path is None:
            return Schema.default()
        if not self.schema_path.is_file():
            raise ConfigError(f"schema file not found: {self.schema_path}", path=self.path,
                              line=_key_line(self.path, "schema"))
        return Schema.load(self.schema_path)


def find_config(start: Path | None = None) -> ProjectConfig | None:
    """The configuration for `start` (default: the working directory): the nearest
    `segmentql.toml`, or `pyproject.toml` with a `[tool.segmentql]` table, in `start` or a
    parent. None when there is none; `ConfigError` when the one found is broken."""
    path = find_config_file(start)
    return None if path is None else load_config(path)


def find_config_file(start: Path | None = None) -> Path | None:
    """The path `find_config` would load, without loading it."""
    here = (start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "segmentql" not in text:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # A broken pyproject that mentions us: load_config reports it with its line.
        return bool(re.search(r"^\s*\[\s*tool\.segmentql\b", text, re.MULTILINE))
    tool = data.get("tool")
    return isinstance(tool, dict) and "segmentql" in tool


def load_config(path: Path | str) -> ProjectConfig:
    """The configuration in `path`: a `segmentql.toml` (keys at the top level) or any other
    TOML file with a `[tool.segmentql]` table (a `pyproject.toml`)."""
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration file: {exc}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(f"not valid TOML: {message}", path=path,
                          line=int(match.group(1)) if match else None) from None
    if path.name == CONFIG_FILE:
        table: Any = data
        prefix = ""
    else:
        table = data.get("tool", {}).get("segmentql") if isinstance(data.get("tool"), dict) \
            else None
        prefix = "tool.segmentql."
        if table is None:
            raise ConfigError("no [tool.segmentql] table", path=path)
        if not isinstance(table, dict):
            raise ConfigError("tool.segmentql must be a table", path=path,
                              line=_key_line(path, "segmentql"))
    return _build(path, table, prefix)


def _build(path: Path, table: dict[str, Any], prefix: str) -> ProjectConfig:
    root = path.parent

    def fail(key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{prefix}{key}: {message}", path=path, line=_key_line(path, key),
                           hint=hint)

    _unknown_keys(path, table, KEYS, prefix)

    schema_path: Path | None = None
    if "schema" in table:
        value = table["schema"]
        if not isinstance(value, str) or not value.strip():
            raise fail("schema", "must be a path (a string), relative to this file")
        schema_path = (root / Path(value).expanduser()).resolve()

    audiences: list[Path] = []
    if "audiences" in table:
        value = table["audiences"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail("audiences", "must be a list of audience file paths")
        audiences = [(root / Path(v).expanduser()).resolve() for v in value]

    time_zone = "UTC"
    if "time_zone" in table:
        value = table["time_zone"]
        if not isinstance(value, str):
            raise fail("time_zone", "must be an IANA time zone name such as \"Europe/Berlin\"")
        time_zone = _check_zone(value, fail)

    store: str | None = None
    if "store" in table:
        value = table["store"]
        if not isinstance(value, str) or not value.strip():
            raise fail("store", "must be a store file path or a postgresql:// URL")
        if re.match(r"[a-z][a-z0-9+.-]*://", value):
            if not value.startswith(("postgresql://", "postgres://")):
                raise fail("store", f"unsupported URL {value!r}",
                           "use a file path for SQLite or a postgresql:// URL")
            store = value
        else:
            store = str((root / Path(value).expanduser()).resolve())

    limits: dict[str, Any] = {"max_length": DEFAULT_MAX_LENGTH, "max_depth": DEFAULT_MAX_DEPTH}
    if "limits" in table:
        value = table["limits"]
        if not isinstance(value, dict):
            raise fail("limits", "must be a table ([limits])")
        for key in KNOWN_LIMITS:
            if key in value:
                number = value[key]
                if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                    raise fail(key, "must be a positive whole number")
        limits.update(value)

    lint = LintConfig()
    if "lint" in table:
        value = table["lint"]
        if not isinstance(value, dict):
            raise fail("lint", "must be a table ([lint])")
        _unknown_keys(path, value, LINT_KEYS, f"{prefix}lint.")
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("select", "ignore"):
            codes = value.get(key, [])
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise fail(key, "must be a list of codes or code prefixes, such as [\"Q2\"]")
            try:
                lists[key] = check_code_list(codes, f"lint.{key}")
            except ValueError as exc:
                raise fail(key, str(exc).split(": ", 1)[1]) from None
        strict = value.get("strict", False)
        if not isinstance(strict, bool):
            raise fail("strict", "must be true or false")
        lint = LintConfig(lists["select"], lists["ignore"], strict)

    serve: dict[str, Any] = {}
    if "serve" in table:
        value = table["serve"]
        if not isinstance(value, dict):
            raise fail("serve", "must be a table ([serve])")
        serve = value

    return ProjectConfig(
        path=path, root=root, schema_path=schema_path, audience_paths=tuple(audiences),
        time_zone=time_zone, store=store, limits=MappingProxyType(limits), lint=lint,
        serve=MappingProxyType(serve),
    )


def _check_zone(name: str, fail: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        raise fail("time_zone", f"unknown time zone {name!r}",
                   f"did you mean {close[0]!r}?" if close else "an IANA name such as "
                   "\"Europe/Berlin\" or \"UTC\"") from None
    return name


def _unknown_keys(path: Path, table: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
            raise ConfigError(f"unknown key {prefix}{key}", path=path, line=_key_line(path, key),
                              hint=hint)


def _key_line(path: Path, key: str) -> int | None:
    """The 1-based line where `key` is set (`key = ...` or a `[...key]` header), if found.

    tomllib keeps no positions, so this reads the text; the first match is good enough to
    point a reader at the right place."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    escaped = re.escape(key)
    pattern = re.compile(
        rf"^\s*(?:[\"']?{escaped}[\"']?\s*=|\[\s*(?:[\w.-]+\.)?{escaped}\s*\])"
    )
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None

