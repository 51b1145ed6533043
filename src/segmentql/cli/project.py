"""`segmentql init` (a starter project), `segmentql schema export` (the JSON Schema of the
variables) and `segmentql completion` (the shell's completion script)."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from segmentql.cli.common import EXIT_OK, CommandError, load_schema

#: The starter project's files, in `segmentql/examples/starter/` (shipped in the wheel).
STARTER = (
    "pyproject.toml",
    "segmentql.schema.yaml",
    "audiences.yaml",
    "events.jsonl",
    "tests/test_audiences.audience.yaml",
)

SHELLS = ("bash", "zsh", "fish", "tcsh", "powershell")


def register(subparsers: Any) -> None:
    init = subparsers.add_parser(
        "init", help="create a starter project: configuration, schema, audiences, tests, events",
        description="Create a starter project in DIRECTORY (default: the working directory): "
        "pyproject.toml with [tool.segmentql], a schema, an audience file, sample events and "
        "an audience test that passes. Existing files are never overwritten.",
    )
    init.add_argument("directory", nargs="?", default=".", help="where (created if absent)")
    init.set_defaults(handler=run_init)

    schema = subparsers.add_parser(
        "schema", help="work with the schema: export it as JSON Schema",
        description="Work with the schema (the --schema file, else the configuration's, "
        "else the standard catalog).",
    )
    actions = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export", help="print the JSON Schema (draft 2020-12) of the variables queries read",
        description="Print the JSON Schema (draft 2020-12) of the variables queries read: "
        "validate profiles with it, or generate types from it.",
    )
    export.add_argument("--schema", metavar="FILE", help="schema file (YAML or JSON)")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE, not stdout")
    export.set_defaults(handler=run_schema_export)

    completion = subparsers.add_parser(
        "completion", help="print the shell completion script",
        description="Print the script that makes SHELL complete segmentql's subcommands and "
        "options, e.g. `eval \"$(segmentql completion bash)\"` in ~/.bashrc.",
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell")
    completion.set_defaults(handler=run_completion)


def run_init(args: argparse.Namespace) -> int:
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise CommandError(f"{target} exists and is not a directory")
    source = resources.files("segmentql.examples").joinpath("starter")
    existing = [name for name in STARTER if (target / name).exists()]
    if existing:
        raise CommandError(f"{target}: would overwrite {', '.join(existing)}; nothing written "
                           "(choose an empty directory)")
    for name in STARTER:
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_read(source, name), encoding="utf-8")
    shown = "." if target.resolve() == Path.cwd().resolve() else str(target)
    enter = "" if shown == "." else f"cd {shown}\n  "
    print(f"Created a segmentql project in {shown}: {', '.join(STARTER)}\n")
    print("Next:\n"
          f"  {enter}segmentql check                      # the audiences against the schema\n"
          "  python3 -m pytest                    # the audience tests\n"
          "  segmentql apply events.jsonl         # the sample events into profiles.sqlite\n"
          "  segmentql eval --audiences audiences.yaml --user-id u1 --now 2026-11-21T10:00:00Z")
    return EXIT_OK


def _read(source: Traversable, name: str) -> str:
    node = source
    for part in name.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def run_schema_export(args: argparse.Namespace) -> int:
    from segmentql.schema.export import schema_to_json_schema

    document = json.dumps(schema_to_json_schema(load_schema(args)), indent=2,
                          ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(document, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(document)
    return EXIT_OK


def run_completion(args: argparse.Namespace) -> int:
    from argcomplete.shell_integration import shellcode

    sys.stdout.write(shellcode(["segmentql"], shell=args.shell))
    return EXIT_OK
