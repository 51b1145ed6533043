"""What every subcommand shares: reading queries and files, `--format`, exit codes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmentql.config import ProjectConfig
    from segmentql.schema import Schema

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A problem the user can fix (bad file, bad flag value); printed without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_query_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query",
        nargs="?",
        default="-",
        help="the query text; '-' or nothing reads it from standard input",
    )


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def read_query(value: str | None) -> str:
    """The query from the argument, or from stdin for '-' / no argument."""
    if value is None or value == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise CommandError("no query given: pass it as an argument or on standard input")
        return sys.stdin.read().rstrip("\n")
    return value


def read_text_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc}") from None


def read_json_file(path: str, what: str) -> Any:
    text = sys.stdin.read() if path == "-" else read_text_file(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{what} file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from None


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def project_config(args: argparse.Namespace) -> ProjectConfig | None:
    """The project configuration: `--config FILE`, else the one found upwards from the
    working directory (`segmentql.toml` or `[tool.segmentql]`), else None; `--no-config`
    ignores any. Loaded once per run."""
    from segmentql.config import ConfigError, find_config, load_config

    if hasattr(args, "_project_config"):
        cached: ProjectConfig | None = args._project_config
        return cached
    config: ProjectConfig | None = None
    try:
        if getattr(args, "config", None):
            config = load_config(args.config)
        elif not getattr(args, "no_config", False):
            config = find_config()
    except ConfigError as exc:
        raise CommandError(f"invalid configuration: {exc}") from None
    args._project_config = config
    return config


def load_schema(args: argparse.Namespace, path: str | None = None) -> Schema:
    """The schema: the `--schema` file, else the project configuration's, else the standard
    catalog. A broken or missing file is a usage error (exit 2)."""
    from segmentql.config import ConfigError
    from segmentql.errors import SchemaError
    from segmentql.schema import Schema

    path = path if path is not None else getattr(args, "schema", None)
    try:
        if path is not None:
            return Schema.load(path)
        config = project_config(args)
        return Schema.default() if config is None else config.load_schema()
    except SchemaError as exc:
        raise CommandError(f"invalid schema: {exc}") from None
    except ConfigError as exc:
        raise CommandError(f"invalid configuration: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot read schema file {path}: {exc.strerror}") from None


def time_zone(args: argparse.Namespace) -> str:
    """`--time-zone`, else the configuration's `time_zone`, else UTC."""
    given = getattr(args, "time_zone", None)
    if given:
        return str(given)
    config = project_config(args)
    return "UTC" if config is None else config.time_zone
