"""`segmentql serve`: the HTTP service (FastAPI on uvicorn, the `serve` extra).

    segmentql serve --store profiles.sqlite --audiences audiences.yaml [--schema FILE]
        [--host 127.0.0.1] [--port 8000] [--workers N] [--keys-file keys.toml]

Keys come from `SEGMENTQL_SERVER_KEYS` / `SEGMENTQL_CLIENT_KEYS` (comma-separated),
`SEGMENTQL_USER_HASH_SECRET` and the keys file. Everything is checked before the first worker
starts: a bad schema, keys file, audiences file or store stops the command (exit 2) with every
problem listed.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import signal
import tempfile
from typing import Any

from segmentql.cli.common import EXIT_OK, CommandError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the HTTP service: events in, audience decisions out",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--store", metavar="S", default=None,
                        help="SQLite path, postgresql:// URL, or 'memory' (default: memory)")
    parser.add_argument("--audiences", metavar="FILE", default=None, action="append",
                        help="YAML/JSON file of named audience queries, reloaded on change "
                        "(repeat for several files)")
    parser.add_argument("--schema", metavar="FILE", default=None, help="schema file")
    parser.add_argument("--keys-file", metavar="FILE", default=None,
                        help="TOML file with server_keys, client_keys, user_hash_secret(s)")
    parser.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes, each with its own store connection (default 1)")
    parser.add_argument("--time-zone", default=None, help="default IANA time zone (UTC)")
    parser.add_argument("--max-body-bytes", type=int, default=None,
                        help="largest request body (default 1048576)")
    parser.add_argument("--max-batch", type=int, default=None,
                        help="most events per batch (default 1000)")
    parser.add_argument("--rate-limit", type=float, default=None,
                        help="requests per second per key and worker, 0 = off (default 1000)")
    parser.add_argument("--rate-burst", type=int, default=None,
                        help="burst size of the rate limit (default 2000)")
    parser.add_argument("--reload-interval", type=float, default=None,
                        help="seconds between checks of the audiences/keys files (default 1)")
    parser.add_argument("--log-level", default="info",
                        choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--access-log", action="store_true",
                        help="log every request (method, path, status; never headers)")
    parser.set_defaults(handler=run)


def settings_from(args: argparse.Namespace, defaults: dict[str, Any] | None = None) -> Any:
    """The service settings: the flags given, then the project configuration's `defaults`,
    built-in defaults for the rest."""
    from segmentql.service.settings import Settings

    values: dict[str, Any] = dict(defaults or {})
    for name in ("store", "audiences", "schema", "keys_file", "time_zone", "max_body_bytes",
                 "max_batch", "rate_limit", "rate_burst", "reload_interval"):
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    return Settings.from_mapping(values)


#: Keys of `[serve]` in the project configuration: service settings and server options.
SERVE_SETTINGS = ("keys_file", "max_body_bytes", "max_batch", "rate_limit", "rate_burst",
                  "reload_interval")
SERVE_SERVER = ("host", "port", "workers")


def project_defaults(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(service settings, server options) from the project config, when there is one: its
    `store`, `audiences`, `schema` and `time_zone`, and its `[serve]` table."""
    import difflib

    from segmentql.cli.common import project_config

    config = project_config(args)
    if config is None:
        return {}, {}
    settings: dict[str, Any] = {"time_zone": config.time_zone}
    if config.store is not None:
        settings["store"] = config.store
    if config.schema_path is not None:
        settings["schema"] = str(config.schema_path)
    if config.audience_paths:
        settings["audiences"] = [str(path) for path in config.audience_paths]
    server: dict[str, Any] = {}
    known = (*SERVE_SETTINGS, *SERVE_SERVER)
    for key, value in config.serve.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            raise CommandError(f"{config.path}: unknown key serve.{key} ({hint})")
        wanted = (str,) if key in ("keys_file", "host") else (
            (int, float) if key in ("rate_limit", "reload_interval") else (int,))
        if isinstance(value, bool) or not isinstance(value, wanted):
            kind = "a string" if wanted == (str,) else "a number"
            raise CommandError(f"{config.path}: serve.{key} must be {kind}, not {value!r}")
        if key == "keys_file":
            value = str((config.root / str(value)).resolve())
        (settings if key in SERVE_SETTINGS else server)[key] = value
    return settings, server


def _log_config(level: str) -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["segmentql"] = {
        "handlers": ["default"], "level": level.upper(), "propagate": False
    }
    return config


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from segmentql.service.app import Service, ServiceError
    except ImportError as exc:
        raise CommandError(
            f"the service needs the 'serve' extra; segmentql is installed from its repository, so "
            f"in your checkout run: python3 -m pip install -e '.[serve]' ({exc})"
        ) from None

    defaults, server = project_defaults(args)
    settings = settings_from(args, defaults)
    host = args.host or server.get("host") or "127.0.0.1"
    port = args.port if args.port is not None else int(server.get("port", 8000))
    workers = args.workers if args.workers is not None else int(server.get("workers", 1))
    if workers < 1:
        raise CommandError("--workers must be at least 1")
    if workers > 1 and settings.store in ("memory", ":memory:"):
        raise CommandError("--workers > 1 needs a shared store (a SQLite file or PostgreSQL), "
                           "not 'memory'")
    try:
        probe = Service(settings)
    except ServiceError as exc:
        raise CommandError(f"cannot start: {exc}") from None
    try:
        if len(probe.keys.ring) == 0:
            raise CommandError(
                "cannot start: no keys. Set SEGMENTQL_SERVER_KEYS / SEGMENTQL_CLIENT_KEYS or "
                "give --keys-file"
            )
    finally:
        probe.stop()

    os.environ["SEGMENTQL_SERVE_SETTINGS"] = settings.to_json()
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="segmentql-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    # uvicorn stops gracefully on SIGINT/SIGTERM, then re-raises the signal with the handler
    # that was in place before it started; this one turns that into a normal exit (status 0).
    signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.run(
            "segmentql.service.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=args.log_level,
            log_config=_log_config(args.log_level),
            access_log=args.access_log,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return EXIT_OK


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(EXIT_OK)
