"""The project configuration: discovery, every key, and errors with file, line and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentql.config import ConfigError, LintConfig, find_config, find_config_file, load_config

FULL = """\
schema = "config/schema.yaml"
audiences = ["audiences.yaml", "more/vip.audiences.yaml"]
time_zone = "Europe/Berlin"
store = "data/profiles.sqlite"

[limits]
max_length = 800
max_depth = 32
cost_budget = 5000      # passed on unchecked (read by the safety checks)

[lint]
select = ["Q2", "q105"]
ignore = ["Q202"]
strict = true

[serve]
port = 8080
keys = { admin = "env:ADMIN_KEY" }
"""


def test_every_key_of_segmentql_toml(tmp_path: Path) -> None:
    (tmp_path / "segmentql.toml").write_text(FULL)
    config = load_config(tmp_path / "segmentql.toml")
    assert config.path == tmp_path / "segmentql.toml" and config.root == tmp_path
    assert config.schema_path == tmp_path / "config" / "schema.yaml"
    assert config.audience_paths == (tmp_path / "audiences.yaml",
                                     tmp_path / "more" / "vip.audiences.yaml")
    assert config.time_zone == "Europe/Berlin"
    assert config.store == str(tmp_path / "data" / "profiles.sqlite")
    assert (config.max_length, config.max_depth) == (800, 32)
    assert config.limits["cost_budget"] == 5000
    assert config.lint == LintConfig(select=("Q2", "Q105"), ignore=("Q202",), strict=True)
    assert config.serve == {"port": 8080, "keys": {"admin": "env:ADMIN_KEY"}}
    with pytest.raises(TypeError):
        config.serve["port"] = 1  # type: ignore[index]


def test_defaults_and_postgres_url(tmp_path: Path) -> None:
    (tmp_path / "segmentql.toml").write_text('store = "postgresql://u@localhost/db"\n')
    config = load_config(tmp_path / "segmentql.toml")
    assert config.schema_path is None and config.audience_paths == ()
    assert config.time_zone == "UTC" and config.store == "postgresql://u@localhost/db"
    assert (config.max_length, config.max_depth) == (500, 64)
    assert config.lint == LintConfig() and dict(config.serve) == {}
    assert config.load_schema().fingerprint is not None  # the standard catalog


def test_found_upwards_pyproject_table_and_precedence(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) is None
    # A pyproject.toml without [tool.segmentql] does not count.
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(deep) is None
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.segmentql]\nschema = "s.yaml"\n'
    )
    config = find_config(deep)
    assert config is not None and config.path == tmp_path / "pyproject.toml"
    assert config.schema_path == tmp_path / "s.yaml"
    # Nearer wins; in one directory segmentql.toml wins over pyproject.toml.
    (tmp_path / "a" / "pyproject.toml").write_text('[tool.segmentql]\ntime_zone = "UTC"\n')
    assert find_config_file(deep) == tmp_path / "a" / "pyproject.toml"
    (tmp_path / "a" / "segmentql.toml").write_text("")
    assert find_config_file(deep) == tmp_path / "a" / "segmentql.toml"


def test_found_from_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "segmentql.toml").write_text('time_zone = "Asia/Tokyo"\n')
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    config = find_config()
    assert config is not None and config.time_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("text", "line", "message", "hint"),
    [
        ('schema = "s.yaml"\naudience = ["a.yaml"]\n', 2, "unknown key audience",
         "did you mean 'audiences'?"),
        ('[lint]\nselect = ["Q2"]\nstrikt = true\n', 3, "unknown key lint.strikt",
         "did you mean 'strict'?"),
        ('time_zone = "Europe/Berln"\n', 1, "unknown time zone 'Europe/Berln'",
         "did you mean 'Europe/Berlin'?"),
        ("\n[limits]\nmax_depth = 0\n", 3, "max_depth: must be a positive whole number", None),
        ('[lint]\nignore = ["E501"]\n', 2, "'E501' is not a code or code prefix", None),
        ('audiences = "a.yaml"\nschema = 3\n', 2, "schema: must be a path", None),
        ('store = "mysql://x"\n', 1, "unsupported URL 'mysql://x'", None),
        ("serve = 1\n", 1, "serve: must be a table", None),
        ('schema = "a\n', 1, "not valid TOML", None),
    ],
)
def test_errors_name_file_line_and_fix(tmp_path: Path, text: str, line: int, message: str,
                                       hint: str | None) -> None:
    path = tmp_path / "segmentql.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert error.path == str(path) and error.line == line
    assert message in error.message
    if hint is not None:
        assert error.hint == hint
    assert str(error).startswith(f"{path}:{line}: ")


def test_errors_in_pyproject_use_the_tool_prefix(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.segmentql]\nshema = "s.yaml"\n')
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    assert caught.value.line == 5
    assert caught.value.message == "unknown key tool.segmentql.shema"
    assert caught.value.hint == "did you mean 'schema'?"


def test_missing_schema_file_is_reported_at_its_key(tmp_path: Path) -> None:
    (tmp_path / "segmentql.toml").write_text('time_zone = "UTC"\nschema = "nope.yaml"\n')
    config = load_config(tmp_path / "segmentql.toml")
    with pytest.raises(ConfigError) as caught:
        config.load_schema()
    assert caught.value.line == 2 and "schema file not found" in caught.value.message


@pytest.mark.parametrize(
    ("lint", "code", "enabled"),
    [
        (LintConfig(), "Q202", True),
        (LintConfig(select=("Q2",)), "Q105", False),
        (LintConfig(select=("Q2",)), "Q207", True),
        (LintConfig(ignore=("Q2",)), "Q207", False),
        (LintConfig(select=("Q202",), ignore=("Q2",)), "Q202", True),  # more specific wins
        (LintConfig(select=("Q2",), ignore=("Q202",)), "Q202", False),
        (LintConfig(select=("Q2",), ignore=("Q202",)), "Q207", True),
    ],
)
def test_select_and_ignore_as_in_ruff(lint: LintConfig, code: str, enabled: bool) -> None:
    assert lint.enabled(code) is enabled


def test_command_line_merges_over_the_file() -> None:
    base = LintConfig(select=("Q2",), ignore=("Q202",), strict=False)
    merged = base.merged(select=("Q1",), ignore=("Q105",), strict=True)
    assert merged == LintConfig(select=("Q1",), ignore=("Q202", "Q105"), strict=True)
    assert base.merged() == base
