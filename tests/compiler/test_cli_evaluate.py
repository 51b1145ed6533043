"""`segmentql eval` and `segmentql explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentql.cli import main


@pytest.fixture
def variables(tmp_path: Path) -> str:
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({"user": {"plan": "pro", "age": "25"}}), encoding="utf-8")
    return str(path)


def test_eval_text_and_exit_codes(variables: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", 'user\'s plan is "pro"', "--variables", variables]) == 0
    assert capsys.readouterr().out.strip() == "true"
    assert main(["eval", 'user\'s plan is "free"', "--variables", variables]) == 1
    assert main(["eval", "user's plan", "--variables", variables]) == 0
    assert capsys.readouterr().out.strip().endswith('"pro"')


def test_eval_json(variables: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", 'user\'s plan is "pro"', "--variables", variables,
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": True, "matched": True}
    assert main(["eval", "today", "--now", "2024-07-24T23:30:00Z", "--time-zone",
                 "Europe/Berlin", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == "2024-07-25"


def test_eval_errors_exit_2(variables: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "user's age > 3", "--variables", variables]) == 2
    assert "Q307" in capsys.readouterr().err
    assert main(["eval", "user's plan is", "--variables", variables]) == 2
    assert main(["eval", "true", "--variables", "/no/such/file.json"]) == 2


def test_explain(variables: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", 'user\'s plan is "pro" and user\'s age > 3', "--variables",
                 variables]) == 2
    out = capsys.readouterr().out
    assert "decided the result" in out and "reads user's age = \"25\"" in out
    assert main(["explain", 'user\'s plan is "pro"', "--variables", variables,
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["matched"] is True


def test_runtime_error_shows_the_source_line_and_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vars.json"
    path.write_text(json.dumps({"user": {"age": "twelve"}}), encoding="utf-8")
    for command in ("eval", "explain"):
        assert main([command, "user's age + 1 > 3", "--variables", str(path)]) == 2
        err = capsys.readouterr().err
        assert "error[Q301]: '+' is not defined for string and integer" in err
        assert "1 | user's age + 1 > 3" in err
        assert "  | ^^^^^^^^^^^^^^\n" in err
        assert '= note: user\'s age is "twelve"' in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--now", "yesterday", "argument --now: 'yesterday' is not an ISO-8601 date-time"),
        ("--time-zone", "Mars/Base", "argument --time-zone: unknown time zone 'Mars/Base'"),
    ],
)
def test_bad_clock_options_are_usage_errors_not_query_diagnostics(
    variables: str, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    for command in ("eval", "explain"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "user's age > 3", "--variables", variables, option, value])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"segmentql {command}: error: {message}" in err
        assert "usage: segmentql" in err and "error[Q" not in err and "<query>" not in err
