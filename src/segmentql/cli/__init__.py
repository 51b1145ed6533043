# PYTHON_ARGCOMPLETE_OK
"""The `segmentql` command: one subcommand per job, registered by the modules below.

Exit codes: 0 ok, 1 findings or no match, 2 usage or internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from segmentql.cli.common import EXIT_USAGE, CommandError
from segmentql.errors import SegmentqlError

#: Modules that each define `register(subparsers)`; order is the order in `--help`.
COMMAND_MODULES = (
    "segmentql.cli.demo",
    "segmentql.cli.syntax",
    "segmentql.cli.check",
    "segmentql.cli.evaluate",
    "segmentql.cli.state",
    "segmentql.cli.store",
    "segmentql.cli.lsp",
    "segmentql.cli.sql",
    "segmentql.cli.serve",
    "segmentql.cli.project",
)


def build_parser() -> argparse.ArgumentParser:
    from segmentql import __version__

    parser = argparse.ArgumentParser(
        prog="segmentql",
        description="Parse, check, format and evaluate audience queries; apply profile events.",
    )
    parser.add_argument("--version", action="version", version=f"segmentql {__version__}")
    _add_config_options(parser, None)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    # Also after the subcommand (`segmentql check --no-config ...`), without overriding a
    # value given before it.
    for subparser in subparsers.choices.values():
        if not {"--config", "--no-config"} & set(subparser._option_string_actions):
            _add_config_options(subparser, argparse.SUPPRESS)
    return parser


def _add_config_options(parser: argparse.ArgumentParser, default: object) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--config", metavar="FILE", default=default,
        help="the project configuration (default: segmentql.toml or pyproject.toml with "
        "[tool.segmentql], found upwards from the working directory)",
    )
    group.add_argument("--no-config", action="store_true",
                       default=False if default is None else default,
                       help="read no project configuration")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        import os

        if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (argcomplete)
            import argcomplete

            argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except CommandError as exc:
        print(f"segmentql {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except SegmentqlError as exc:  # one of ours that a command did not catch: usage-level
        print(f"segmentql {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # never a traceback; 1 means "no match", so this is 2
        print(f"segmentql {args.command}: internal error: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return EXIT_USAGE
