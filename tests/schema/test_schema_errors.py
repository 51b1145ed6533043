"""Broken schema files: one clear `SchemaError` with file, line, column and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentql.errors import SchemaError
from segmentql.schema import Schema


def _load(tmp_path: Path, text: str, suffix: str = ".yaml") -> SchemaError:
    path = tmp_path / f"schema{suffix}"
    path.write_text(text)
    with pytest.raises(SchemaError) as info:
        Schema.load(path)
    error = info.value
    assert error.path == str(path)
    # Never a yaml/json/pydantic traceback: the cause is suppressed and the text is one line.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert "\n" not in str(error)
    return error


@pytest.mark.parametrize(
    ("text", "line", "column", "message", "hint"),
    [
        (  # unknown type name, with did-you-mean
            "custom:\n  user:\n    plan: strng\n",
            3, 11, "unknown type 'strng'", "did you mean `string`?",
        ),
        (
            "custom:\n  user:\n    score: int\n",
            3, 12, "unknown type 'int'", "did you mean `integer`?",
        ),
        (  # a type that is not a type
            "custom:\n  user:\n    plan: 42\n",
            3, 11, "the type of 'plan' must be a type name or a mapping, not a number", None,
        ),
        (  # wrong value type for a key
            "custom:\n  user:\n    plan:\n      type: string\n      enum: free\n",
            5, 13, "`enum` must be a non-empty list of strings", None,
        ),
        (
            "custom:\n  user:\n    plan:\n      enum: [free, 3]\n",
            4, 20, "enum values must be strings, not a number", 'quote it: "3"',
        ),
        (  # duplicate attribute
            "custom:\n  user:\n    plan: string\n    plan: integer\n",
            4, 5, "duplicate key 'plan'", "remove one of the two entries or rename it",
        ),
        (  # duplicate attribute, differing only in case
            "custom:\n  user:\n    plan: string\n    Plan: integer\n",
            4, 5, "duplicate key 'Plan' (names are case-insensitive: 'plan')", None,
        ),
        (  # YAML syntax error
            "custom:\n  user:\n    plan: [string\n",
            4, 1, "invalid YAML:", "check indentation, colons and quotes near this position",
        ),
        (  # unknown key in a type
            "custom:\n  user:\n    plan:\n      type: string\n      descripton: x\n",
            5, 7, "unknown key 'descripton' in a type", "did you mean `description`?",
        ),
        (  # key that does not apply
            "custom:\n  user:\n    plan:\n      type: integer\n      enum: [a]\n",
            5, 7, "`enum` does not apply to type integer", None,
        ),
        (  # unknown top-level key
            "variabels:\n  x: string\n",
            1, 1, "unknown top-level key 'variabels'", "did you mean `variables`?",
        ),
        (  # custom attributes of an unknown variable
            "custom:\n  usr:\n    plan: string\n",
            2, 3, "custom attributes for unknown variable 'usr'", "did you mean `user`?",
        ),
        (  # a bad attribute name
            "custom:\n  user:\n    my-plan: string\n",
            3, 5, "invalid attribute name 'my-plan'", None,
        ),
        (  # invalid type expression
            "variables:\n  x: list[string\n",
            2, 6, "invalid type 'list[string': it ends too early", None,
        ),
        (
            "variables:\n  x: map[integer, string]\n",
            2, 6, "map keys are always strings", None,
        ),
        (  # not a mapping at all
            "- a\n- b\n",
            1, 1, "a schema must be a mapping, not a list", None,
        ),
    ],
)
def test_broken_yaml_files(
    tmp_path: Path, text: str, line: int, column: int, message: str, hint: str | None
) -> None:
    error = _load(tmp_path, text)
    assert message in error.message
    assert (error.line, error.column) == (line, column)
    if hint is not None:
        assert error.hint == hint
    assert str(error).startswith(f"{tmp_path / 'schema.yaml'}:{line}:{column}: ")


def test_json_syntax_error_has_position(tmp_path: Path) -> None:
    error = _load(tmp_path, '{"custom": {"user": {"plan": "string",}}}', ".json")
    assert error.message.startswith("invalid JSON")
    assert (error.line, error.column) == (1, 39)


def test_json_duplicate_key_has_position(tmp_path: Path) -> None:
    error = _load(tmp_path, '{"custom": {"user": {\n  "plan": "string",\n  "PLAN": "integer"}}}',
                  ".json")
    assert "duplicate key 'PLAN'" in error.message
    assert (error.line, error.column) == (3, 3)


def test_json_unknown_type_has_position(tmp_path: Path) -> None:
    error = _load(tmp_path, '{"custom": {"user": {\n  "plan": "strin"}}}', ".json")
    assert (error.line, error.column, error.hint) == (2, 11, "did you mean `string`?")


def test_missing_file() -> None:
    with pytest.raises(SchemaError, match="schema file not found"):
        Schema.load("/nonexistent/schema.yaml")


def test_from_dict_errors_have_no_position() -> None:
    with pytest.raises(SchemaError) as info:
        Schema.from_dict({"variables": {"x": {"type": "lst"}}})
    assert info.value.line is None
    assert info.value.hint == "did you mean `list`?"


def test_extends_must_be_default_or_none() -> None:
    with pytest.raises(SchemaError, match="`extends` must be `default` or `none`"):
        Schema.from_dict({"extends": "basic"})


def test_iterate_must_name_a_list_field() -> None:
    with pytest.raises(SchemaError, match="`iterate` must name a list attribute"):
        Schema.from_dict({"variables": {"box": {"fields": {"n": "integer"}, "iterate": "n"}}})
