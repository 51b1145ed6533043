"""The language server and the pytest plugin read the same project configuration as the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentql.lsp.workspace import SchemaCache

pytest_plugins = ["pytester"]

SCHEMA = "custom:\n  user:\n    seats: integer\n"


def test_language_server_takes_the_schema_from_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "schema.yaml").write_text(SCHEMA)
    (tmp_path / "segmentql.schema.yaml").write_text("custom:\n  user:\n    other: string\n")
    cache = SchemaCache()
    # Without a configuration: the segmentql.schema.yaml fallback.
    assert cache.choose(str(tmp_path), None).source == str(tmp_path / "segmentql.schema.yaml")
    (tmp_path / "pyproject.toml").write_text('[tool.segmentql]\nschema = "conf/schema.yaml"\n')
    chosen = cache.choose(str(tmp_path), None)
    assert chosen.source == str(tmp_path / "conf" / "schema.yaml") and chosen.problem is None
    # The editor setting still wins over the project file.
    assert cache.choose(str(tmp_path), "segmentql.schema.yaml").source.endswith(
        "segmentql.schema.yaml")
    # A broken configuration is reported, and the default schema used meanwhile.
    (tmp_path / "pyproject.toml").write_text('[tool.segmentql]\nshema = "x"\n')
    broken = cache.choose(str(tmp_path), None)
    assert broken.source == "default"
    assert broken.problem is not None and "did you mean 'schema'?" in broken.problem


def test_pytest_plugin_uses_the_configured_schema_and_audiences(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".toml", segmentql='schema = "schema.yaml"\naudiences = ["aud.yaml"]\n')
    pytester.makefile(".yaml", schema=SCHEMA, aud="teams: user's seats is at least 5\n")
    pytester.makefile(
        ".audience.yaml",
        test_teams="cases:\n"
        "  - name: twelve seats\n    audience: teams\n"
        "    variables: {user: {custom: {seats: 12}}}\n    expect: true\n",
        test_listed="audiences: aud.yaml\ncases:\n"
        "  - name: two seats\n    audience: teams\n"
        "    variables: {user: {custom: {seats: 2}}}\n    expect: false\n",
    )
    pytester.makepyfile(test_fixture="""
def test_schema_fixture(audience_schema, evaluate_audience):
    assert evaluate_audience("user's seats + 1", {"user": {"custom": {"seats": 1}}}) == 2
    assert "seats" in [name for name, _, _ in audience_schema.attributes_of(audience_schema.variable("user").type)]
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_pytest_plugin_reports_a_broken_configuration(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".toml", segmentql='schema = "schema.yaml"\ntimezone = "UTC"\n')
    pytester.makefile(".audience.yaml", test_a="cases:\n  - query: 'true'\n    expect: true\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*invalid segmentql configuration: *segmentql.toml:2: unknown "
                                 "key timezone (did you mean 'time_zone'?)*"])


def test_language_server_applies_lint_settings_and_suppression_comments(tmp_path: Path) -> None:
    pytest.importorskip("pygls", reason="the language server needs the lsp extra")
    from segmentql.config import LintConfig
    from segmentql.lsp.documents import read_audience_document
    from segmentql.lsp.positions import LineIndex
    from segmentql.lsp.server import DocumentView, document_diagnostics, lint_filter

    cache = SchemaCache()
    (tmp_path / "segmentql.toml").write_text('[lint]\nignore = ["Q207"]\n')
    lint = cache.lint(str(tmp_path))
    assert lint == LintConfig(ignore=("Q207",))

    def codes(source: str, audience: bool) -> list[str]:
        view = DocumentView(
            "file:///x.audiences.yaml" if audience else "file:///x.segmentql", source,
            LineIndex(source, "utf-16"), read_audience_document(source) if audience else None,
            cache.choose(str(tmp_path), None),
        )
        return [str(d.code) for d in lint_filter(view, document_diagnostics(view), lint)]

    query = 'user\'s emial is "x" and user\'s gender is "mail"'
    assert codes(query, audience=False) == ["Q202"]  # Q207 ignored by the configuration
    assert codes(query + "  // segmentql: ignore[Q202]", audience=False) == []
    yaml_text = (
        "a: user's emial is \"x\"  # segmentql: ignore[Q202]\n"
        "b: user's emial is \"x\"\n"
        "c:  # segmentql: ignore\n  query: |\n    user's plan is \"pro\"\n    and user's emial is \"y\"\n"
    )
    assert codes(yaml_text, audience=True) == ["Q202"]  # only b's
