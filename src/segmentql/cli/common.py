"""What every subcommand shares: reading queries and files, `--format`, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segmentql.config import ProjectConfig
    from segmentql.schema import Schema

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

#: The most bytes read from one input file or from standard input (`--variables /dev/zero`
#: must fail, not fill the memory).
MAX_INPUT_BYTES = 16 * 1024 * 1024


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
        return read_stdin("query").rstrip("\n")
    return value


def read_stdin(what: str) -> str:
    """Standard input as text, at most `MAX_INPUT_BYTES`."""
    if getattr(sys.stdin, "buffer", None) is None:
        # a text stream (an embedding program's or a test's): already decoded
        text = sys.stdin.read(MAX_INPUT_BYTES + 1)
        if len(text) > MAX_INPUT_BYTES:
            raise CommandError(f"{what} on standard input is larger than {MAX_INPUT_BYTES} "
                               "characters")
        return text
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise CommandError(f"{what} on standard input is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{what} on standard input is not UTF-8: {exc.reason} at byte "
                           f"{exc.start}") from None


def read_text_file(path: str, what: str) -> str:
    """A UTF-8 file, at most `MAX_INPUT_BYTES` (devices such as /dev/zero stop there)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise CommandError(f"{what} file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise CommandError(f"{what} file {path} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{what} file {path} is not UTF-8: {exc.reason} at byte "
                           f"{exc.start}") from None


def require_regular_file(path: str, what: str) -> None:
    """`path` must be a regular file no larger than `MAX_INPUT_BYTES` (for files read by
    other parts of the library, such as schemas)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise CommandError(f"{what} file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CommandError(f"{what} file {path} is not a regular file")
    if info.st_size > MAX_INPUT_BYTES:
        raise CommandError(f"{what} file {path} is larger than {MAX_INPUT_BYTES} bytes")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json_file(path: str, what: str) -> Any:
    """A strict JSON file (no NaN or Infinity), bounded like `read_text_file`."""
    text = read_stdin(what) if path == "-" else read_text_file(path, what)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{what} file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CommandError(f"{what} file {path} is not valid JSON: {detail}") from None


def print_json(data: Any) -> None:
    """Strict JSON on standard output (never NaN or Infinity)."""
    from segmentql.compiler.query import json_value

    text = json.dumps(json_value(data), indent=2, ensure_ascii=False, allow_nan=False)
    sys.stdout.write(text + "\n")


def add_budget_arguments(parser: argparse.ArgumentParser) -> None:
    """`--budget-steps`, `--budget-size`, `--budget-depth` (see docs/semantics.md)."""
    from segmentql.runtime.budget import DEFAULT_BUDGET

    for name, help_text in (
        ("steps", "evaluation steps (quantifier items, function calls, sorted items)"),
        ("size", "characters of a built text, or items of a built collection"),
        ("depth", "arrow-function calls in progress at once"),
    ):
        parser.add_argument(
            f"--budget-{name}", type=_positive_int, metavar="N", default=None,
            help=f"budget: {help_text} (default {getattr(DEFAULT_BUDGET, name):,})",
        )


def budget_from(args: argparse.Namespace) -> Any:
    """The `Budget` the `--budget-*` options describe; where one is not given, the project
    configuration's `[limits]` `budget_steps` / `budget_size` / `budget_depth`; else the
    default."""
    from segmentql.runtime.budget import DEFAULT_BUDGET, Budget

    config = project_config(args)
    limits = config.limits if config is not None else {}
    changes = {name: getattr(args, f"budget_{name}", None) or limits.get(f"budget_{name}")
               for name in ("steps", "size", "depth")}
    given = {k: v for k, v in changes.items() if v is not None}
    if not given:
        return DEFAULT_BUDGET
    return Budget(**{**{n: getattr(DEFAULT_BUDGET, n) for n in (
        "steps", "size", "depth", "collection_items", "text_length")}, **given})


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


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
            require_regular_file(path, "schema")
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
