"""Every shell example in README.md and docs/*.md runs as written.

A shell example is a line of a ```sh (or ```bash, ```shell) block, or a `$ ` line of a
```console block (the lines after it, up to the next `$ `, are output it must print, `...`
standing for any lines). Each block runs from the root of a scratch folder holding a copy of
the checkout's `docs/examples/` (the input files the examples read) and its `pyproject.toml`,
line by line: `cd DIR` lines move it, a plain `segmentql ...` line runs in this process (the
same argv, through `segmentql.cli.main`), any other line in bash. A command must exit 0 or 1
(1 is a documented outcome: findings, no match) and never print a traceback.

A few lines cannot run here, and each kind is run elsewhere: installing packages and making a
virtual environment (tests/project/test_newcomer.py does that, in a fresh venv), the whole
test suite (CI runs it), the language server and the HTTP service, which serve until stopped
(tests/lsp/test_server_e2e.py, tests/service/), and the benchmarks (bench/, never in the
suite). They are recognised below, by name; any other line runs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(sh|bash|shell|console)\n(.*?)^```", re.DOTALL | re.MULTILINE)

#: Lines run elsewhere (see the module docstring), by pattern, with where.
ELSEWHERE = {
    r"^python3 -m venv .venv && \. \.venv/bin/activate$": "test_newcomer.py",
    r"^python3 -m pip install -e '\.\[[a-z,]+\]'( && segmentql demo)?$": "test_newcomer.py",
    r"^python3 -m pip install -e '/path/to/": "test_newcomer.py (from the checkout)",
    r"^python3 -m pytest( --deep)?$": "CI: the whole suite",
    r"^segmentql lsp\b": "tests/lsp/test_server_e2e.py",
    r"^segmentql serve\b": "tests/service (started as a real process)",
    r"^python3 bench/": "bench/, by hand",
}


def _elsewhere(command: str) -> bool:
    return any(re.search(pattern, command) for pattern in ELSEWHERE)


def examples() -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(id, [(command, expected output lines)]) for every block of every page."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for number, match in enumerate(FENCE.finditer(text), start=1):
            kind, body = match.groups()
            commands: list[tuple[str, list[str]]] = []
            for line in body.splitlines():
                if kind != "console":
                    command = line.strip()
                    if command and not command.startswith("#"):
                        commands.append((command, []))
                elif line.startswith("$ "):
                    commands.append((line[2:].strip(), []))
                elif commands and line.strip():
                    commands[-1][1].append(line.rstrip())
            if commands:
                found.append((f"{page.name}#{number}", commands))
    return found


EXAMPLES = examples()


def test_the_docs_have_shell_examples() -> None:
    pages = {name.split("#")[0] for name, _ in EXAMPLES}
    assert {"README.md", "cli.md", "configuration.md", "testing.md", "evaluation.md",
            "checker.md", "state-model.md", "editor.md"} <= pages


#: Lines with these need a shell; plain `segmentql ...` lines run in this process (the same
#: argv, through `segmentql.cli.main`), which saves a Python start-up per line.
SHELL_SYNTAX = re.compile(r"[|&;<>$`*?()]")


def _in_process(argv: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch
                ) -> tuple[int, str]:
    import contextlib
    import io

    from segmentql.cli import main

    out = io.StringIO()
    monkeypatch.chdir(cwd)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse: --help, usage errors
            code = int(exit.code or 0)
    return code, out.getvalue()


def _strip_comment(command: str) -> str:
    """`cmd   # note` -> `cmd` (a `#` after two spaces starts a note in our examples)."""
    return re.split(r"\s{2,}#\s", command, maxsplit=1)[0].strip()


@pytest.mark.parametrize(("name", "commands"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_shell_example_runs(name: str, commands: list[tuple[str, list[str]]],
                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    # pytest's settings (rootdir, markers, warnings as errors), as in the checkout.
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cwd = tmp_path
    for raw, expected in commands:
        command = _strip_comment(raw)
        if _elsewhere(command):
            continue
        if command.startswith("cd ") and "&&" not in command:
            cwd = (cwd / command[3:].strip()).resolve()
            assert cwd.is_dir(), f"{name}: {command}: no such folder"
            continue
        if command.startswith("segmentql ") and not SHELL_SYNTAX.search(command):
            returncode, output = _in_process(shlex.split(command)[1:], cwd, monkeypatch)
        else:
            result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env,
                                    capture_output=True, text=True, timeout=300)
            returncode, output = result.returncode, result.stdout + result.stderr
        assert returncode in (0, 1), f"{name}: {command}\n{output}"
        assert "Traceback" not in output, f"{name}: {command}\n{output}"
        lines = output.splitlines()
        for want in expected:
            if want.strip() == "...":
                continue
            assert any(want.strip() in line for line in lines), (
                f"{name}: {command}: expected {want!r} in\n{output}"
            )

