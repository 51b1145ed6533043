"""`segmentql apply EVENTS.jsonl --store FILE` and `segmentql snapshot --store FILE --user-id ID`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from segmentql.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    CommandError,
    load_schema,
    print_json,
    project_config,
)

BATCH_SIZE = 500


def register(subparsers: Any) -> None:
    apply = subparsers.add_parser(
        "apply",
        help="apply identify/patch/track/... events (JSON lines) to a profile store",
        description="Apply events, one JSON object per line, to a SQLite profile store. "
        "Events are applied in batches (one transaction each); a bad line stops the run with "
        "FILE:LINE and the reason, and every line before it stays applied.",
    )
    apply.add_argument("events", help="a .jsonl file of events; '-' reads standard input")
    apply.add_argument("--store", help="the SQLite store file (created if absent) or a "
                       "postgresql:// URL; default: the configuration's `store`")
    add_schema_argument(apply)
    apply.add_argument(
        "--batch-size", type=int, default=BATCH_SIZE, help=f"events per transaction "
        f"(default {BATCH_SIZE})"
    )
    apply.add_argument(
        "--progress", action="store_true", help="report progress even when stderr is not a "
        "terminal (there: one plain line at the end)"
    )
    apply.add_argument("--quiet", action="store_true", help="print no summary")
    add_policy_argument(apply)
    apply.set_defaults(handler=run_apply)

    snapshot = subparsers.add_parser(
        "snapshot",
        help="print the snapshot (the variables queries read) of a user or device",
        description="Print the snapshot of a user or device from a profile store as JSON.",
    )
    snapshot.add_argument("--store", help="the SQLite store file or a postgresql:// URL; "
                          "default: the configuration's `store`")
    add_schema_argument(snapshot)
    who = snapshot.add_mutually_exclusive_group(required=True)
    who.add_argument("--anonymous-id", help="the device's anonymous id")
    who.add_argument("--user-id", help="the user's id")
    snapshot.add_argument(
        "--request", help="a JSON file of request-time variables (page, location, device, "
        "browser, campaign, cart, context)"
    )
    snapshot.add_argument(
        "--now", help="ISO-8601 instant; a session idle past the timeout shows as a new one"
    )
    add_policy_argument(snapshot)
    snapshot.set_defaults(handler=run_snapshot)


def add_schema_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--schema", metavar="FILE", help="schema file: custom attributes are stored with their "
        "declared types (default: the configuration's, else the standard catalog)",
    )


def store_path(args: argparse.Namespace) -> str:
    """`--store`, else the configuration's `store`."""
    if args.store:
        return str(args.store)
    config = project_config(args)
    if config is None or config.store is None:
        raise CommandError("no store: pass --store FILE, or set `store` in the configuration")
    return config.store


def add_policy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy", help="a JSON or YAML file of StatePolicy settings (session_timeout, "
        "max_merges, ...); defaults otherwise"
    )


def load_policy(path: str | None) -> Any:
    """The `StatePolicy` in `path` (JSON or YAML), or the defaults."""
    from pydantic import ValidationError

    from segmentql.state import StatePolicy
    from segmentql.state.events import describe_validation_error

    if path is None:
        return StatePolicy()
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read policy file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CommandError(f"policy file {path} is not valid JSON or YAML: {exc}") from None
    try:
        return StatePolicy.model_validate(data or {})
    except ValidationError as exc:
        raise CommandError(
            f"policy file {path}: {describe_validation_error(exc, StatePolicy)}"
        ) from None


# --- apply -------------------------------------------------------------------------------------


class Progress:
    """The progress bar of `apply` on stderr (rich): bytes read of the file, lines, rate and
    time left. On a terminal it redraws in place; with `--progress` and no terminal it prints
    a plain final line, so logs get the totals without control codes."""

    def __init__(self, total: int, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as Bar

        self.total = max(total, 1)
        self.stream = stream
        self.console = Console(file=stream, highlight=False)
        self.bar = Bar(
            BarColumn(), TaskProgressColumn(), DownloadColumn(), TransferSpeedColumn(),
            TextColumn("{task.fields[lines]} lines"), TimeRemainingColumn(),
            console=self.console, transient=False, disable=not self.console.is_terminal,
        )
        self.task = self.bar.add_task("apply", total=self.total, lines=0)
        self.bar.start()

    def update(self, done: int, lines: int) -> None:
        self.bar.update(self.task, completed=min(done, self.total), lines=lines)

    def stop(self) -> None:
        """End the bar where it is (a run stopped by a bad line)."""
        self.bar.stop()

    def finish(self, lines: int) -> None:
        self.bar.update(self.task, completed=self.total, lines=lines)
        self.bar.stop()
        if not self.console.is_terminal:
            self.stream.write(f"100% of {self.total} bytes, {lines} lines\n")
            self.stream.flush()


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(line number, bytes read so far, line) for each line."""
    read = 0
    for number, line in enumerate(stream, start=1):
        read += len(line)
        yield number, read, line


def run_apply(args: argparse.Namespace) -> int:
    from segmentql.state import ApplyResult, ProfileStore, StateError, parse_event

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    name = "<stdin>" if args.events == "-" else args.events
    if args.events == "-":
        source: IO[bytes] = sys.stdin.buffer
        size = 0
    else:
        try:
            source = open(args.events, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot read events file {args.events}: {exc.strerror}") from None
        size = Path(args.events).stat().st_size
    try:
        args.store = store_path(args)
        schema = load_schema(args)
        policy = load_policy(args.policy)
        store = ProfileStore.open(args.store, policy=policy, schema=schema)
    except StateError as exc:
        source.close()
        raise CommandError(str(exc)) from None
    except CommandError:
        source.close()
        raise
    show = size > 0 and (args.progress or sys.stderr.isatty())
    progress = Progress(size, sys.stderr) if show else None
    totals = {"applied": 0, "dropped": 0, "notices": 0}
    line_count = 0

    def record(result: ApplyResult) -> None:
        totals["applied"] += result.applied
        totals["dropped"] += len(result.dropped)
        totals["notices"] += len(result.notices)

    def fail(line: int, message: str) -> int:
        if progress is not None:
            progress.stop()
        print(f"{name}:{line}: {message}", file=sys.stderr)
        _summary(args, totals, stopped=True)
        return EXIT_FINDINGS

    try:
        batch: list[Any] = []
        numbers: list[int] = []
        for number, read, raw in _lines(source):
            line_count = number
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                event = parse_event(text)
            except StateError as exc:
                flushed = _flush(store, batch, numbers, record)
                if flushed is not None:
                    return fail(*flushed)
                return fail(number, exc.message)
            batch.append(event)
            numbers.append(number)
            if len(batch) >= args.batch_size:
                flushed = _flush(store, batch, numbers, record)
                if flushed is not None:
                    return fail(*flushed)
                batch, numbers = [], []
            if progress is not None:
                progress.update(read, number)
        flushed = _flush(store, batch, numbers, record)
        if flushed is not None:
            return fail(*flushed)
        if progress is not None:
            progress.finish(line_count)
    finally:
        source.close()
        store.close()
    _summary(args, totals, stopped=False)
    return EXIT_OK


def _flush(store: Any, batch: list[Any], numbers: list[int], record: Any) -> tuple[int, str] | None:
    """Apply `batch`; on an invalid event apply the events before it, and return
    (line, message) of the invalid one."""
    from segmentql.state import StateError

    if not batch:
        return None
    try:
        record(store.apply(batch))
        return None
    except StateError as exc:
        index = exc.event_index if exc.event_index is not None else 0
        if index > 0:
            record(store.apply(batch[:index]))
        return numbers[index], exc.message


def _shown(store: str) -> str:
    """The store as messages name it: a URL without its password."""
    if store.startswith(("postgresql://", "postgres://")):
        from segmentql.state.postgres import redact

        return redact(store)
    return store


def _summary(args: argparse.Namespace, totals: dict[str, int], *, stopped: bool) -> None:
    if args.quiet:
        return
    verb = "stopped after applying" if stopped else "applied"
    print(
        f"{verb} {totals['applied']} events to {_shown(args.store)} "
        f"({totals['dropped']} dropped as duplicate or suppressed, {totals['notices']} notices)",
        file=sys.stderr if stopped else sys.stdout,
    )


# --- snapshot ----------------------------------------------------------------------------------


def run_snapshot(args: argparse.Namespace) -> int:
    from segmentql.state import ProfileStore, StateError

    request: dict[str, Any] = {}
    if args.request:
        try:
            request = json.loads(Path(args.request).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read request file {args.request}: {exc}") from None
        allowed = {"page", "location", "device", "browser", "campaign", "cart", "context"}
        if not isinstance(request, dict) or set(request) - allowed:
            raise CommandError(
                f"request file {args.request}: a JSON object with only the keys "
                f"{', '.join(sorted(allowed))}"
            )
    policy = load_policy(args.policy)
    args.store = store_path(args)
    schema = load_schema(args)
    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise CommandError(f"--now is not an ISO-8601 instant: {args.now!r}") from None
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    is_url = args.store.startswith(("postgresql://", "postgres://"))
    if not is_url and not Path(args.store).exists():
        # Like an unknown id: an empty profile, never created on disk; exit 1 says "nothing".
        print(f"segmentql snapshot: no store at {args.store}; this is an empty profile",
              file=sys.stderr)
        empty = ProfileStore(policy=policy, schema=schema).snapshot(
            anonymous_id=args.anonymous_id, user_id=args.user_id, now=now, **request
        )
        print_json(empty.to_json())
        return EXIT_FINDINGS
    try:
        with ProfileStore.open(args.store, policy=policy, schema=schema) as store:
            snapshot = store.snapshot(
                anonymous_id=args.anonymous_id, user_id=args.user_id, now=now, **request
            )
    except StateError as exc:
        raise CommandError(str(exc)) from None
    print_json(snapshot.to_json())
    return EXIT_OK
