"""A newcomer's path, end to end, in a fresh virtual environment (no system site-packages):
the README's venv command, the lean core install, then the `testing` extra, `segmentql demo`,
and the README's "Your own project" block as written: `segmentql init`, `segmentql check` and
the starter project's tests.

Packages come from the package index pip is configured with (bounded by timeouts); pip's cache
makes later runs quick. The checkout is copied first, so nothing is written into it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def sh_blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", README, re.DOTALL | re.MULTILINE)


def bash(script: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTEST_ADDOPTS")}
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.venv
def test_readme_path_in_a_fresh_venv(tmp_path: Path) -> None:
    checkout = tmp_path / "segmentql"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "src", checkout / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv_line = sh_blocks()[0].strip()
    assert venv_line == "python3 -m venv .venv && . .venv/bin/activate"
    [own_project] = [block for block in sh_blocks() if "segmentql init" in block]
    install_testing, *rest = [line for line in own_project.splitlines() if line.strip()]
    assert install_testing == "python3 -m pip install -e '.[testing]'"

    core = bash(f"""
{venv_line}
python3 -c "import sys; assert sys.prefix != sys.base_prefix; print(sys.prefix)"
python3 -m pip install -q --disable-pip-version-check -e .
python3 -c "import segmentql; assert segmentql.compile('user\\'s plan is \\"pro\\"').matches({{'user': {{'plan': 'pro'}}}})"
segmentql check --no-config 'user.emial is "x"' || true
segmentql demo > /dev/null
for module in pytest hypothesis pygls; do
    if python3 -c "import $module" 2>/dev/null; then echo "core install pulled $module"; exit 3; fi
done
segmentql lsp && exit 4 || echo "lsp exit $?"
segmentql serve && exit 5 || echo "serve exit $?"
""", checkout)
    assert core.returncode == 0, core.stdout + core.stderr
    assert core.stdout.splitlines()[0] == str(checkout / ".venv")
    assert "warning[Q202]" in core.stdout
    assert "lsp exit 2" in core.stdout
    assert "python3 -m pip install -e '.[lsp]'" in core.stderr  # how to get the extras
    assert "serve exit 2" in core.stdout
    assert "python3 -m pip install -e '.[serve]'" in core.stderr

    newcomer = bash(f"""
. .venv/bin/activate
{install_testing} -q --disable-pip-version-check
segmentql demo
{chr(10).join(rest)}
""", checkout)
    assert newcomer.returncode == 0, newcomer.stdout + newcomer.stderr
    assert "4. Audiences" in newcomer.stdout  # the demo ran
    assert "Created a segmentql project in my-audiences" in newcomer.stdout
    assert "Checked 3 queries: 0 with errors. No problems found." in newcomer.stdout
    assert re.search(r"^5 passed", newcomer.stdout, re.MULTILINE), newcomer.stdout
