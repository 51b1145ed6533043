"""The grammar file ships in the wheel and loads from an installed (non-editable) package."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys, segmentql.syntax.parser as p, segmentql.grammar as g
from pathlib import Path
assert Path(g.__file__).is_relative_to(sys.prefix), (g.__file__, sys.prefix)
assert "site-packages" in g.__file__, g.__file__
node = p.parse("user's plan is 'pro' and user has viewed a page 2 times")
print(type(node).__name__, Path(g.__file__).parent.joinpath("query.lark").exists())
"""


@pytest.mark.slow
def test_wheel_contains_the_grammar_and_parses_when_installed(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("segmentql-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "segmentql/grammar/query.lark" in archive.namelist()

    venv = tmp_path / "venv"
    # No pip inside the venv (ensurepip is slow): the running pip installs into it. The
    # dependencies (lark, pydantic, ...) come from the running environment through a .pth
    # file naming its site-packages: `--system-site-packages` would expose the *base*
    # interpreter instead, which lacks them when the suite runs inside a venv. A .pth line
    # only appends a directory, so the checkout's editable install there is not picked up.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_running_env.pth").write_text("\n".join(sorted(here)) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stderr
    # -I: isolated mode, no cwd or user site on sys.path; the cwd is outside the checkout.
    run = subprocess.run([str(python), "-I", "-c", CHECK], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["Binary", "True"]


def test_editable_install_points_at_the_checkout(tmp_path: Path) -> None:
    code = "import segmentql.grammar as g; print(g.__file__)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    location = Path(run.stdout.strip()).resolve()
    if ROOT not in location.parents:
        pytest.skip(f"segmentql is installed from {location}, not this checkout")
    assert location == (ROOT / "src" / "segmentql" / "grammar" / "__init__.py").resolve()
    parse = "from segmentql.syntax.parser import parse; print(type(parse('1 + 1')).__name__)"
    run = subprocess.run([sys.executable, "-c", parse], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert run.stdout.strip() == "Binary", run.stderr
