"""The CLI on a real project: the configuration, lint controls and output formats, `eval
--audiences`, `fmt` on files, `init`, `schema export` and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segmentql.cli import main

SCHEMA = """\
custom:
  user:
    plan:
      enum: [free, pro]
    seats: integer
"""
AUDIENCES = """\
audiences:
  pros: user's plan is "pro"
  teams:
    query: user's seats is at least 5
"""
EVENTS = (
    '{"type": "identify", "anonymous_id": "d1", "user_id": "u1", '
    '"traits": {"plan": "pro", "seats": 12}}\n'
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a configuration, as the working directory."""
    (tmp_path / "segmentql.toml").write_text(
        'schema = "schema.yaml"\naudiences = ["audiences.yaml"]\nstore = "profiles.sqlite"\n'
    )
    (tmp_path / "schema.yaml").write_text(SCHEMA)
    (tmp_path / "audiences.yaml").write_text(AUDIENCES)
    (tmp_path / "events.jsonl").write_text(EVENTS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the configuration -------------------------------------------------------------------


def test_check_takes_the_schema_and_audiences_from_the_configuration(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `seats` is a custom attribute of the configured schema: clean here, unknown without it.
    assert run(capsys, "check", "--audience", "user's seats > 3")[0] == 0
    code, out, _ = run(capsys, "--no-config", "check", "--audience", "user's seats > 3")
    assert code == 0 and "warning[Q202]" in out
    code, out, _ = run(capsys, "check")  # no query: the configured audience files
    assert code == 0 and out.strip() == "Checked 2 queries: 0 with errors. No problems found."


def test_apply_stores_custom_attributes_with_their_schema_types(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "bad.jsonl").write_text(EVENTS.replace("12", '"12"'))
    code, _, err = run(capsys, "apply", "bad.jsonl")  # the store comes from the config too
    assert code == 1
    assert "the schema expects integer at user.custom.seats, and this would store '12'" in err
    assert run(capsys, "apply", "events.jsonl")[0] == 0
    code, out, _ = run(capsys, "snapshot", "--user-id", "u1")
    assert code == 0 and json.loads(out)["user"]["custom"] == {"plan": "pro", "seats": 12}


def test_a_broken_configuration_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "segmentql.toml").write_text('schema = "schema.yaml"\nstor = "x"\n')
    code, out, err = run(capsys, "check", "true")
    assert code == 2 and out == ""
    assert err.strip() == (f"segmentql check: invalid configuration: {project}/segmentql.toml:2: "
                           "unknown key stor (did you mean 'store'?)")


def test_explicit_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "other.toml").write_text('[tool.segmentql]\ntime_zone = "Asia/Tokyo"\n')
    code, out, _ = run(capsys, "--config", str(tmp_path / "other.toml"), "eval",
                       "--format", "json", "today", "--now", "2024-07-24T23:30:00Z")
    assert code == 0 and json.loads(out)["value"] == "2024-07-25"


def test_check_file_accepts_the_editor_layout(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "shop.audiences.yaml"
    path.write_text(
        "schema:\n  custom:\n    user:\n      plan: {enum: [free, pro]}\n"
        "audiences:\n  pro: user's plan is \"pro\"\n"
        "  buyer:\n    query: >-\n      user is returning\n      and usr has placed an order\n"
    )
    code, out, _ = run(capsys, "--no-config", "check", str(path))
    assert code == 1
    assert f" --> {path}:10:11" in out  # `usr`, in the folded block, placed in the file
    assert "10 |       and usr has placed an order" in out
    assert "Checked 2 queries: 1 with errors." in out


# --- lint controls and output formats ------------------------------------------------------


def test_select_ignore_and_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = 'user\'s emial is "x" and user\'s gender is "mail"'  # Q202 and Q207, warnings
    code, out, _ = run(capsys, "--no-config", "check", query)
    assert code == 0 and "Q202" in out and "Q207" in out
    code, out, _ = run(capsys, "--no-config", "check", "--ignore", "Q202", query)
    assert "Q202" not in out and "Q207" in out
    code, out, _ = run(capsys, "--no-config", "check", "--select", "Q202", query)
    assert "Q202" in out and "Q207" not in out
    assert run(capsys, "--no-config", "check", "--strict", query)[0] == 1
    assert run(capsys, "--no-config", "check", "--strict", "--ignore", "Q2", query)[0] == 0
    code, _, err = run_sub(tmp_path, "check", "--select", "E501", "true")
    assert code == 2 and "'E501' is not a code or code prefix" in err


def test_lint_settings_from_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "segmentql.toml").write_text('[lint]\nstrict = true\nignore = ["Q207"]\n')
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", 'user\'s gender is "mail"')[0] == 0  # ignored
    assert run(capsys, "check", 'user\'s emial is "x"')[0] == 1  # strict: the warning fails


def test_suppression_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "q.segmentql"
    query.write_text('user\'s emial is "x"  // segmentql: ignore[Q202]\n'
                     'and user\'s gender is "mail"\n')
    code, out, _ = run(capsys, "--no-config", "check", "--strict", str(query))
    assert code == 1 and "Q202" not in out and "Q207" in out
    query.write_text('user\'s emial is "x"  /* segmentql: ignore */\n')
    assert run(capsys, "--no-config", "check", "--strict", str(query))[0] == 0
    audiences = tmp_path / "a.audiences.yaml"
    audiences.write_text(
        "a: user's emial is \"x\"  # segmentql: ignore[Q202]\n"
        "b: user's emial is \"x\"\n"
        "c: |  # segmentql: ignore[Q2]\n  user's plan is \"pro\"\n  and user's emial is \"y\"\n"
    )
    code, out, _ = run(capsys, "--no-config", "check", "--format", "json", str(audiences))
    data = json.loads(out)
    found = {q["name"]: [d["code"] for d in q["diagnostics"]] for q in data["queries"]}
    assert found == {"a": [], "b": ["Q202"], "c": []}


def test_github_and_sarif_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.audiences.yaml"
    path.write_text("ok: user is returning\nbad: usr is returning\n")
    code, out, _ = run(capsys, "--no-config", "check", "--output-format", "github", str(path))
    assert code == 1
    assert out == (f"::error file={path},line=2,col=6,endLine=2,endColumn=9,title=Q200::"
                   "unknown variable `usr` (help: did you mean `user`?)\n")
    code, out, _ = run(capsys, "--no-config", "check", "--output-format", "sarif", str(path))
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "Q200" and result["level"] == "error"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": str(path)},
        "region": {"startLine": 2, "startColumn": 6, "endLine": 2, "endColumn": 9},
    }
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "Q200"


def run_sub(cwd: Path, *argv: str, env: dict[str, str] | None = None
            ) -> tuple[int, str, str]:
    result = subprocess.run([sys.executable, "-m", "segmentql", *argv], cwd=cwd,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, **(env or {})})
    return result.returncode, result.stdout, result.stderr


def through_pty(cwd: Path, env: dict[str, str], *argv: str) -> bytes:
    """Run segmentql with a terminal as its stdout and stderr; everything it wrote."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "segmentql", *argv], stdout=follower,
                               stderr=follower, cwd=cwd, env={**os.environ, **env})
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks)


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(
        f'{{"type": "track", "anonymous_id": "d{n}", "event": "pageOpened", '
        f'"properties": {{"url": "https://x.example/{n}"}}}}\n' for n in range(200)
    ))
    shown = through_pty(tmp_path, {"TERM": "xterm-256color", "COLUMNS": "120"},
                        "--no-config", "apply", "events.jsonl", "--store", "s.db")
    assert b"200 lines" in shown and b"100%" in shown and b"\xe2\x94\x81" in shown  # bar: ━
    assert b"applied 200 events" in shown


def test_colour_on_a_terminal_unless_no_color(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    argv = ("--no-config", "check", "usr is returning")
    coloured = through_pty(tmp_path, {"TERM": "xterm-256color"}, *argv)
    assert b"\x1b[" in coloured and b"error[Q200]" in coloured
    plain = through_pty(tmp_path, {"TERM": "xterm-256color", "NO_COLOR": "1"}, *argv)
    assert b"\x1b[" not in plain and b"error[Q200]: unknown variable `usr`" in plain
    # Not a terminal: no colour, unless FORCE_COLOR asks for it.
    code, out, _ = run_sub(tmp_path, *argv)
    assert code == 1 and "\x1b[" not in out
    code, out, _ = run_sub(tmp_path, *argv, env={"FORCE_COLOR": "1"})
    assert code == 1 and "\x1b[" in out


# --- eval --audiences ----------------------------------------------------------------------


def test_eval_every_audience_against_a_stored_profile(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "apply", "events.jsonl")[0] == 0
    code, out, _ = run(capsys, "eval", "--audiences", "audiences.yaml", "--user-id", "u1",
                       "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["matching"] == ["pros", "teams"]
    assert [(a["name"], a["matched"]) for a in data["audiences"]] == [("pros", True),
                                                                       ("teams", True)]
    code, out, _ = run(capsys, "eval", "--audiences", "audiences.yaml", "--user-id", "u1")
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0].split() == ["audience", "result", "query"]
    assert lines[1].split()[:2] == ["pros", "match"] and lines[-1] == "2 of 2 audiences match"
    code, out, _ = run(capsys, "eval", "--audiences", "audiences.yaml", "--user-id", "u1",
                       "--explain")
    assert "--- teams (audiences.yaml)" in out and "reads user's seats = 12" in out


def test_eval_audiences_on_a_variables_file(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (project / "profile.json").write_text('{"user": {"custom": {"plan": "free", "seats": 2}}}')
    code, out, _ = run(capsys, "eval", "--audiences", "audiences.yaml", "--variables",
                       "profile.json", "--format", "json")
    assert code == 1 and json.loads(out)["matching"] == []  # nothing matched: exit 1
    code, _, err = run(capsys, "eval", "--audiences", "audiences.yaml", "--variables",
                       "profile.json", "--user-id", "u1")
    assert code == 2 and "give one profile" in err
    code, _, err = run(capsys, "eval", "--audiences", "audiences.yaml", "--user-id", "nobody",
                       "--store", "missing.sqlite")
    assert code == 2 and "no store at missing.sqlite" in err


def test_eval_audiences_that_do_not_compile(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (project / "broken.yaml").write_text("ok: user is returning\nbad: usr is returning\n")
    code, _, err = run(capsys, "eval", "--audiences", "broken.yaml", "--variables", "-")
    assert code == 2
    assert "--> broken.yaml:2:6" in err and "nothing evaluated" in err


# --- fmt on files --------------------------------------------------------------------------


def test_fmt_files_check_diff_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "a.segmentql"
    query.write_text("user.plan == 'pro' && !(user.age < 18)\n")
    kept = tmp_path / "b.segmentql"
    kept.write_text("user.plan == 'pro' // why\n")
    audiences = tmp_path / "shop.audiences.yaml"
    audiences.write_text("audiences:\n  x: user.plan == 'pro'   # a comment\n")
    files = [str(query), str(kept), str(audiences)]
    code, out, err = run(capsys, "fmt", "--check", *files)
    assert code == 1 and out == f"would reformat {query}\nwould reformat {audiences}\n"
    assert "b.segmentql: left as written: it has comments" in err
    code, out, _ = run(capsys, "fmt", "--diff", *files)
    assert code == 1 and f"--- {query}\n+++ {query}\n" in out
    assert '+  x: user\'s plan == "pro"   # a comment' in out
    assert query.read_text() == "user.plan == 'pro' && !(user.age < 18)\n"  # nothing written
    code, _, err = run(capsys, "fmt", *files)
    assert code == 0 and "2 files reformatted, 1 left unchanged" in err
    assert query.read_text() == 'user\'s plan == "pro" and not user\'s age < 18\n'
    assert audiences.read_text() == "audiences:\n  x: user's plan == \"pro\"   # a comment\n"
    assert kept.read_text() == "user.plan == 'pro' // why\n"
    assert run(capsys, "fmt", "--check", *files)[0] == 0


def test_fmt_file_with_a_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "a.segmentql"
    query.write_text("user's plan is\n")
    code, _, err = run(capsys, "fmt", str(query))
    assert code == 1 and "error[Q114]" in err and query.read_text() == "user's plan is\n"


def test_pre_commit_hooks_run_the_commands() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"]: h["entry"] for h in hooks} == {
        "segmentql-fmt": "segmentql fmt", "segmentql-check": "segmentql check",
    }
    import re

    for hook in hooks:
        pattern = re.compile(hook["files"])
        assert pattern.search("q.segmentql") and pattern.search("shop.audiences.yaml")
        assert not pattern.search("schema.yaml")


# --- init, schema export, completion ------------------------------------------------------------


def test_init_creates_a_project_that_passes_its_own_checks_and_tests(tmp_path: Path) -> None:
    code, out, _ = run_sub(tmp_path, "init", "shop")
    assert code == 0 and "Created a segmentql project in shop" in out
    shop = tmp_path / "shop"
    assert run_sub(shop, "check")[0] == 0
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:playwright"],
        cwd=shop, capture_output=True, text=True, timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout
    assert run_sub(shop, "apply", "events.jsonl")[0] == 0
    code, out, _ = run_sub(shop, "eval", "--audiences", "audiences.yaml", "--user-id", "u1",
                           "--now", "2026-11-21T10:00:00Z", "--format", "json")
    assert code == 0
    assert json.loads(out)["matching"] == ["pro_users", "teams", "pricing_readers"]
    # Never overwrites.
    code, _, err = run_sub(tmp_path, "init", "shop")
    assert code == 2 and "would overwrite pyproject.toml" in err


def test_schema_export(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "export")
    document = json.loads(out)
    assert code == 0 and document["$schema"].endswith("2020-12/schema")
    custom = document["properties"]["user"]["properties"]["custom"]["properties"]
    assert set(custom) == {"plan", "seats"}  # from the configured schema
    assert run(capsys, "schema", "export", "-o", "out.json")[0] == 0
    assert json.loads((project / "out.json").read_text()) == document


def test_shell_completion(tmp_path: Path) -> None:
    code, out, _ = run_sub(tmp_path, "completion", "bash")
    assert code == 0 and "complete " in out and "segmentql" in out

    def complete(line: str) -> list[str]:
        target = tmp_path / "completions.txt"
        env = {"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
               "_ARGCOMPLETE_STDOUT_FILENAME": str(target), "_ARGCOMPLETE_IFS": "\n"}
        code, _, err = run_sub(tmp_path, env=env)
        assert code == 0, err
        return target.read_text().split()

    assert complete("segmentql ch") == ["check"]
    assert "--output-format" in complete("segmentql check --out")
    assert complete("segmentql check --output-format s") == ["sarif"]


def test_budget_limits_from_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "segmentql.toml").write_text("[limits]\nbudget_steps = 10\n")
    (tmp_path / "p.json").write_text(json.dumps({"user": {"interests": list("abcdefghijklmno")}}))
    monkeypatch.chdir(tmp_path)
    query = 'every x in user\'s interests satisfies x is not "zz"'
    code, _, err = run(capsys, "eval", query, "--variables", "p.json")
    assert code == 2 and "error[Q312]: evaluation step budget exhausted" in err
    assert run(capsys, "eval", query, "--variables", "p.json", "--budget-steps", "1000")[0] == 0
    assert run(capsys, "--no-config", "eval", query, "--variables", "p.json")[0] == 0
