"""docs/service.md and the README's service section run: the documented command starts the
service on the shipped example files, every Python block runs against it in order, the
JavaScript user hash equals Python's (with node), and the refusal message is the real one."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .support import ROOT, serve

pytestmark = pytest.mark.service

DOC = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE_DIR = ROOT / "docs" / "examples" / "service"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(text) if lang == language]


def serve_arguments(text: str) -> list[str]:
    [line] = [line for lang in ("sh", "bash") for body in blocks(text, lang)
              for line in body.splitlines()
              if line.startswith("segmentql serve")]
    return shlex.split(line.split("#")[0])[2:]


def test_documented_service_answers_every_python_example(tmp_path: Path) -> None:
    for name in ("audiences.yaml", "keys.toml"):
        shutil.copy(EXAMPLE_DIR / name, tmp_path / name)
    with serve(tmp_path, *serve_arguments(DOC), env={
        "SEGMENTQL_SERVER_KEYS": "", "SEGMENTQL_CLIENT_KEYS": "",
        "SEGMENTQL_USER_HASH_SECRET": "",
    }) as running:
        namespace: dict[str, object] = {"__name__": "service_doc"}
        import os

        os.environ["SEGMENTQL_URL"] = running.url
        try:
            for source in blocks(DOC, "python"):
                line = DOC[: DOC.index(source)].count("\n") + 1
                code = compile("\n" * (line - 1) + source, "docs/service.md", "exec")
                exec(code, namespace)
        finally:
            del os.environ["SEGMENTQL_URL"]
        for client in ("server", "browser"):
            namespace[client].close()  # type: ignore[attr-defined]
        assert running.stop() == 0
    assert "sk_live_2b7e151628aed2a6" not in running.output()


def test_javascript_user_hash_equals_pythons(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    [javascript] = blocks(DOC, "javascript")
    script = tmp_path / "user_hash.js"
    script.write_text(javascript)
    printed = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=30,
                             check=True).stdout.strip()
    from segmentql.service import user_hash

    assert printed == user_hash("whsec_9e3779b97f4a7c15", "u-42")


def test_the_documented_refusal_is_the_real_one(tmp_path: Path) -> None:
    [text] = [b for b in blocks(DOC, "text") if "cannot start" in b]
    (tmp_path / "audiences.yaml").write_text("pricing: page's url matches\n")
    result = subprocess.run(
        [sys.executable, "-m", "segmentql", "serve", "--audiences", "audiences.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(ROOT / "src"), "SEGMENTQL_SERVER_KEYS": "k"},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == text.strip()


def test_keys_file_example_is_the_shipped_one() -> None:
    [toml] = blocks(DOC, "toml")
    shipped = (EXAMPLE_DIR / "keys.toml").read_text()
    for line in toml.splitlines():
        key = line.split("=")[0].strip()
        assert key in shipped
    assert "sk_live_2b7e151628aed2a6" in shipped and "pk_live_3243f6a8885a308d" in shipped


def test_readme_service_section_starts_the_service(tmp_path: Path) -> None:
    arguments = serve_arguments(README)
    for name in ("audiences.yaml", "keys.toml"):
        shutil.copy(EXAMPLE_DIR / name, tmp_path / name)
    with serve(tmp_path, *arguments) as running, running.client() as client:
        assert client.get("/readyz").json()["status"] == "ready"
        assert running.stop() == 0
