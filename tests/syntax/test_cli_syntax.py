"""`segmentql parse` and `segmentql fmt`: outputs and exit codes (0 ok, 1 errors, 2 usage)."""

from __future__ import annotations

import io
import json

import pytest

from segmentql.cli import main
from segmentql.syntax.ast_json import from_json
from segmentql.syntax.parser import parse


def test_parse_text_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "user's plan is 'pro'"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Test op='equal'  1:1-1:21"
    assert out[1] == "  subject: Attribute name='plan'  1:1-1:12"
    assert out[2] == "    target: Variable name='user'  1:1-1:5"
    assert out[3] == "  args[0]: StringLiteral value='pro'  1:16-1:21"


def test_parse_json(capsys: pytest.CaptureFixture[str]) -> None:
    query = "user has viewed a page with url like 'x' 2 times"
    assert main(["parse", query, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert from_json(data) == parse(query)


def test_parse_reads_stdin(monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("1 + 2\n"))
    assert main(["parse", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "Binary"


def test_parse_errors_render_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "user's plan is"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[:5] == [
        "error[Q114]: expected a value after 'is'",
        " --> <query>:1:15",
        "  |",
        "1 | user's plan is",
        "  |               ^",
    ]


def test_parse_errors_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "x is y", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1
    (diagnostic,) = data["diagnostics"]
    assert diagnostic["code"] == "Q106"
    assert diagnostic["span"]["start"] == 5


def test_fmt(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "user.plan == 'pro' && !x"]) == 0
    printed = capsys.readouterr().out.strip()
    assert parse(printed) == parse("user.plan == 'pro' && !x")


def test_fmt_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "1 +"]) == 1
    assert "error[Q114]" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["parse", "x", "--format", "xml"])
    assert info.value.code == 2
