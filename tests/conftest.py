"""Suite-wide settings: hypothesis profiles, the `slow` marker and the `--deep` option.

- CI runs everything, property tests with the modest `default` profile.
- `--deep` loads the `deep` hypothesis profile (thousands of examples) and tells tests that
  scale by hand (crash loops, fuzz counts) through the `deep` fixture to run their long form.
- `-m "not slow"` gives a quick local run without the heavier tests.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

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
