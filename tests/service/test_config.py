"""`segmentql serve` reads the project configuration: its store, audience file, schema, time
zone and `[serve]` table, with flags winning; a bad `[serve]` key stops it with the file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support import EXAMPLES, KEYS_ENV, ROOT, serve

pytestmark = pytest.mark.service


def test_serve_takes_its_settings_from_the_project_configuration(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "audiences.yaml", tmp_path / "audiences.yaml")
    shutil.copy(EXAMPLES / "schema.yaml", tmp_path / "schema.yaml")
    (tmp_path / "segmentql.toml").write_text(
        'schema = "schema.yaml"\naudiences = ["audiences.yaml"]\nstore = "profiles.sqlite"\n'
        "\n[serve]\nmax_batch = 2\n"
    )
    with serve(tmp_path) as served, served.client() as client:
        events = [{"type": "track", "anonymous_id": f"d{n}", "event": "pageOpened",
                   "properties": {"url": "https://shop.example/"}} for n in range(3)]
        # max_batch from [serve]: three events are one too many.
        assert client.post("/v1/events", json={"events": events}).status_code == 413
        assert client.post("/v1/events", json={"events": events[:2]}).status_code == 200
        decided = client.post("/v1/decide", json={"anonymous_id": "d0"})
        assert decided.status_code == 200, decided.text
    assert (tmp_path / "profiles.sqlite").exists()  # the configured store


def test_a_bad_serve_key_stops_it(tmp_path: Path) -> None:
    (tmp_path / "segmentql.toml").write_text("[serve]\nprot = 8080\n")
    result = subprocess.run(
        [sys.executable, "-m", "segmentql", "serve"], cwd=tmp_path, capture_output=True,
        text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", **KEYS_ENV},
    )
    assert result.returncode == 2
    assert f"{tmp_path}/segmentql.toml: unknown key serve.prot (did you mean 'port'?)" in (
        result.stderr
    )
