"""A throwaway PostgreSQL cluster for tests and benchmarks: plain code, no pytest.

`PostgresCluster.start()` runs `initdb` into a temporary directory and starts `postgres` on a
free 127.0.0.1 port with its socket in the same directory. PostgreSQL refuses to run as root, so
when we are root both run as the `postgres` OS user (which then owns the directory). Durability
settings are relaxed (`fsync=off`, no full-page writes): the cluster lives only as long as the
test session.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

_BINARIES = ("initdb", "pg_ctl", "postgres")


def _find_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if all((bindir / name).exists() for name in _BINARIES):
            return bindir
    return None


def unavailable_reason() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    bindir = _find_bindir()
    if bindir is None:
        return "PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresCluster:
    """A running throwaway cluster; `url(db)` gives a psycopg connection URL."""

    directory: Path
    port: int
    bindir: Path
    _as_user: str | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls, parent: Path | None = None, timeout: float = 30.0) -> PostgresCluster:
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        bindir = _find_bindir()
        assert bindir is not None
        directory = Path(tempfile.mkdtemp(prefix="segmentql-pg-", dir=parent))
        as_user: str | None = None
        if os.geteuid() == 0:
            as_user = "postgres"
            entry = pwd.getpwnam("postgres")
            # the server refuses to run as root; mkdtemp's directory under the system temp dir
            # is reachable for it once it owns the directory
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        cluster = cls(directory=directory, port=_free_port(), bindir=bindir, _as_user=as_user)
        data = directory / "data"
        cluster._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={cluster.port} "
            f"-c unix_socket_directories={directory} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        cluster._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(directory / "server.log"),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ]
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", cluster.port), timeout=1).close()
                return cluster
            time.sleep(0.05)
        cluster.stop()
        raise RuntimeError(f"PostgreSQL did not accept connections within {timeout} s")

    def _run(self, argv: list[str]) -> None:
        completed = subprocess.run(
            argv,
            user=self._as_user,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=self.directory,
        )
        if completed.returncode != 0:
            log = self.directory / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{Path(argv[0]).name} failed ({completed.returncode}): "
                f"{completed.stderr.strip()} {completed.stdout.strip()} {tail}"
            )

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh database and return its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        data = self.directory / "data"
        if data.exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run([str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                           "stop"])
        shutil.rmtree(self.directory, ignore_errors=True)
