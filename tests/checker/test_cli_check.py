"""`segmentql check`: one query, or a file of queries; text and JSON; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentql.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_query_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, 'user\'s plan is "pro"')
    assert code == 0 and out.strip() == "No problems found."


def test_errors_exit_1_with_rustc_style_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, 'usr\'s plan is "pro"')
    assert code == 1
    assert out.splitlines()[:5] == [
        "error[Q200]: unknown variable `usr`",
        " --> <query>:1:1",
        "  |",
        '1 | usr\'s plan is "pro"',
        "  | ^^^",
    ]
    assert out.rstrip().endswith("Found 1 error and 0 warnings.")


def test_warnings_alone_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, 'user\'s emial is "x"')
    assert code == 0 and "warning[Q202]" in out


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", 'user\'s gender is "mail"')
    data = json.loads(out)
    assert code == 0
    assert data["version"] == 1
    [diagnostic] = data["diagnostics"]
    assert diagnostic["code"] == "Q207"
    assert diagnostic["span"] == {"start": 17, "end": 23, "line": 1, "column": 18,
                                  "end_line": 1, "end_column": 24}
    assert diagnostic["suggestions"] == ["male"]


def test_audience_flag_requires_boolean(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "user's firstName")[0] == 0
    code, out, _ = run(capsys, "--audience", "user's firstName")
    assert code == 1 and "error[Q208]" in out


def test_schema_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text("custom:\n  user:\n    plan: {enum: [free, pro]}\n")
    code, out, _ = run(capsys, "--schema", str(schema), 'user\'s plan is "gold"')
    assert code == 0 and "warning[Q207]" in out


def test_broken_schema_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text("custom:\n  user:\n    plan: strng\n")
    code, out, err = run(capsys, "--schema", str(schema), "true")
    assert code == 2 and out == ""
    assert err.strip() == (
        f"segmentql check: invalid schema: {schema}:3:11: unknown type 'strng' "
        "(hint: did you mean `string`?)"
    )


def test_text_file_of_queries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text('# audiences\nuser\'s plan is "pro"\n\n  usr is returning\ntrue\n')
    code, out, _ = run(capsys, "--file", str(queries))
    assert code == 1
    assert f" --> {queries}:4:3" in out
    assert "4 |   usr is returning" in out
    assert out.rstrip().endswith(
        "Checked 3 queries: 1 with errors. Found 1 error and 0 warnings."
    )


def test_yaml_file_of_named_audiences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text(
        'pro: user\'s plan is "pro"\n'
        "returning: 'user is returning and sesion is starting'\n"
        "name: user's firstName\n"
        "long: |\n  user's plan is \"pro\"\n  and user's emial is \"x\"\n"
    )
    code, out, _ = run(capsys, "--file", str(audiences))
    assert code == 1
    assert f" --> {audiences}:2:35" in out  # `sesion`, inside the quoted scalar
    assert f" --> {audiences}:3:7" in out  # Q208: audiences must be boolean
    assert f" --> {audiences}:6:14" in out  # block scalars: exact in the file too
    assert '6 |   and user\'s emial is "x"' in out
    assert "Checked 4 queries: 2 with errors. Found 2 errors and 1 warning." in out


def test_json_file_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audiences = tmp_path / "audiences.json"
    audiences.write_text(json.dumps({"a": "user is returning", "b": "usr is returning"}))
    code, out, _ = run(capsys, "--file", str(audiences), "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert [q["name"] for q in data["queries"]] == ["a", "b"]
    assert data["queries"][1]["diagnostics"][0]["code"] == "Q200"
    assert data["summary"] == {"queries": 2, "failing": 1, "errors": 1, "warnings": 0}


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("a: [unclosed\n", ".yaml", "not a valid YAML/JSON file"),
        ("- just a list\n", ".yaml", "expected a mapping of audience names to queries"),
        ("a:\n  nested: map\n", ".yaml", "audience 'a' must be a query string"),
        ('{"a": "x",}', ".json", ":1:11: not a valid YAML/JSON file"),
    ],
)
def test_bad_audience_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, suffix: str,
    message: str,
) -> None:
    path = tmp_path / f"audiences{suffix}"
    path.write_text(content)
    code, _, err = run(capsys, "--file", str(path))
    assert code == 2 and message in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--file", str(tmp_path / "missing.txt"))[0] == 2
    path = tmp_path / "q.txt"
    path.write_text("true\n")
    code, _, err = run(capsys, "true", "--file", str(path))
    assert code == 2 and "either a query or --file" in err
