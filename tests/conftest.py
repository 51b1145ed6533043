"""Suite-wide settings: hypothesis profiles, the `slow` marker and the `--deep` option.

- CI runs everything, property tests with the modest `default` profile.
- `--deep` loads the `deep` hypothesis profile (thousands of examples) and tells tests that
  scale by hand (crash loops, fuzz counts) through the `deep` fixture to run their long form.
- `-m "not slow"` gives a quick local run without the heavier tests.
- Real components: `postgres_server`/`postgres_url` (a throwaway PostgreSQL cluster) and `spark`
  (a local SparkSession), each started once per session.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))
import pg_cluster  # a plain module beside this file, shared with bench/
from components import component_missing
from pg_cluster import PostgresCluster

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        default=False,
        help="run property tests and crash/fuzz loops at full depth (slow)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--deep"):
        settings.load_profile("deep")


@pytest.fixture
def deep(request: pytest.FixtureRequest) -> bool:
    """True under `--deep`: tests that loop by hand should run their long form."""
    return bool(request.config.getoption("--deep"))


# --- real components, started by the tests themselves ---------------------------------------
# Each fixture skips (with the reason) only where its component cannot exist on this machine.
# CI installs all of them (`.ci/run` sets CI=1), and there a missing component is a failure.



@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on a free 127.0.0.1 port for the whole session."""
    reason = pg_cluster.unavailable_reason()
    if reason is not None:
        component_missing(reason)
    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresCluster) -> Iterator[str]:
    """A fresh, empty database for one test: `postgresql://postgres@127.0.0.1:PORT/t_...`."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local-mode SparkSession for the session (settings from the wave-2 stack note)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        component_missing("pyspark is not installed (the 'spark' extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        component_missing("no Java runtime for Spark (java not on PATH, JAVA_HOME unset)")
    from segmentql.sql.engines import local_spark

    session = local_spark("segmentql-tests", cores="2")
    try:
        yield session
    finally:
        session.stop()
