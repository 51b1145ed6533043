"""`segmentql lsp`: run the language server (stdio by default, `--tcp --port N` for TCP)."""

from __future__ import annotations

import argparse
from typing import Any

from segmentql.cli.common import EXIT_OK, CommandError

#: segmentql is not on a package index yet: the extra is installed from a checkout.
LSP_HINT = (
    "the language server needs the lsp extra (pygls); segmentql is installed from its "
    "repository, so in your checkout run: python3 -m pip install -e '.[lsp]' "
    "(or, from elsewhere: python3 -m pip install '/path/to/segmentql[lsp]')"
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "lsp",
        help="run the language server (editors: diagnostics, completion, hover, formatting)",
        description="Run the segmentql language server. Needs the `lsp` extra: in a checkout "
        "of the segmentql repository, python3 -m pip install -e '.[lsp]'.",
    )
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    parser.add_argument("--tcp", action="store_true", help="listen on a TCP port instead")
    parser.add_argument("--host", default="127.0.0.1", help="TCP address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default: 2087)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        from segmentql.lsp.server import main
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("pygls", "lsprotocol"):
            raise CommandError(LSP_HINT) from None
        raise
    main(tcp=bool(args.tcp), host=args.host, port=args.port)
    return EXIT_OK
