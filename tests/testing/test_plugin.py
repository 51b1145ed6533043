"""The pytest plugin, run inside pytester: audience files, failures, lines, fixtures."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

# Imported here, before any pytester run: an in-process run drops the modules it imported
# when it ends, and a re-imported `yaml` no longer matches its C loader's node classes.
# (Importing them once also keeps the built grammar and schemas between the runs.)
import segmentql.checker
import segmentql.state
import segmentql.syntax.parser
import segmentql.testing.assertions
import segmentql.testing.plugin
import segmentql.testing.run  # noqa: F401

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"

PASSING = """\
audiences:
  ann: user's firstName is "Ann"
cases:
  - name: ann matches
    audience: ann
    variables: {user: {firstName: Ann}}
    expect: true
  - name: bob does not
    audience: ann
    variables: {user: {firstName: Bob}}
    expect: false
  - name: missing first name
    audience: ann
    variables: {user: {}}
    expect: false
  - name: the value of a query
    query: user's firstName & "!"
    variables: {user: {firstName: Ann}}
    expect: {value: "Ann!"}
  - name: an evaluation error
    query: 1 / user's stats's orders > 0
    variables: {user: {stats: {orders: 0}}}
    expect: {error: Q302}
  - name: a compile error
    query: user's firstName is
    variables: {}
    expect: {error: Q114}
  - name: from events
    audience: ann
    events:
      - {type: identify, anonymous_id: a1, user_id: u1, traits: {firstName: Ann}}
    expect: true
"""

FAILING = """\
audiences:
  adult_ann: user's firstName is "Ann" and user's age is at least 18
cases:
  - name: ann is an adult
    audience: adult_ann
    now: "2024-05-01T12:00:00Z"
    variables: {user: {firstName: Ann, birthDate: "1990-01-01"}}
    expect: true

  - name: bob is not ann
    audience: adult_ann
    now: "2024-05-01T12:00:00Z"
    variables:
      user: {firstName: Bob, birthDate: "1990-01-01"}
    expect: true
"""


@pytest.fixture(autouse=True)
def _inner_ini(pytester: pytest.Pytester) -> None:
    # pytest-asyncio (installed with pytest-lsp) warns at configure time without this
    # setting, and the outer run's `filterwarnings = error` turns that into an error.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def _write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_passing_file_runs_every_case(pytester: pytest.Pytester) -> None:
    _write(pytester, "test_ann.audience.yaml", PASSING)
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=7)


def test_failure_shows_query_deciding_clause_and_reads(pytester: pytest.Pytester) -> None:
    _write(pytester, "test_adult.audience.yaml", FAILING)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*audience case: bob is not ann*",
        "test_adult.audience.yaml:10: case 'bob is not ann'",
        "audience 'adult_ann': expected a match, got no match (value False)",
        "query at: test_adult.audience.yaml:2:14",
        "decided by: user's firstName is \"Ann\" (test_adult.audience.yaml:2:14)",
        "query: user's firstName is \"Ann\" and user's age is at least 18",
        "*user's firstName is \"Ann\"  =>  false  <- decided the result",
        "*reads user's firstName = \"Bob\"",
    ])


def test_reported_location_is_the_case_line(pytester: pytest.Pytester) -> None:
    _write(pytester, "test_adult.audience.yaml", FAILING)
    recorder = pytester.inline_run()
    [failure] = recorder.getfailures()
    file, line, domain = failure.location
    assert file == "test_adult.audience.yaml"
    assert line == 9  # 0-based: the case starts on line 10
    assert domain == "audience case: bob is not ann"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cases:\n  - query: user is anonymous\n    variables: {}\n    expct: true\n",
            "test_bad.audience.yaml:4: unknown key 'expct' in case 'case 1' "
            "(did you mean 'expect'?)*",
        ),
        (
            "audiences:\n  a: user is anonymous\ncases:\n  - audience: b\n"
            "    variables: {}\n    expect: true\n",
            "test_bad.audience.yaml:4: case 'case 1': unknown audience 'b' (audiences: a)",
        ),
        (
            "cases:\n  - query: x\n    variables: {a: [1, 2}\n    expect: true\n",
            "test_bad.audience.yaml:3: invalid YAML:*",
        ),
        (
            "cases:\n  - query: x\n    variables: {}\n    expect: maybe\n",
            "test_bad.audience.yaml:4: case 'case 1': `expect` is true, false,*",
        ),
        (
            "schema: missing.yaml\ncases: []\n",
            "test_bad.audience.yaml: schema: *missing.yaml*",
        ),
    ],
    ids=["unknown-key", "unknown-audience", "yaml-error", "bad-expect", "missing-schema"],
)
def test_bad_files_are_collection_errors(
    pytester: pytest.Pytester, text: str, expected: str
) -> None:
    _write(pytester, "test_bad.audience.yaml", text)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR collecting test_bad.audience.yaml*", expected])
    assert "Traceback" not in result.stdout.str()


def test_audience_schema_option_and_fixtures(pytester: pytest.Pytester) -> None:
    _write(
        pytester, "tiers.yaml",
        "extends: default\ncustom:\n  user:\n    tier:\n      enum: [gold, silver]\n",
    )
    _write(
        pytester, "test_tiers.audience.yaml",
        "cases:\n  - query: user's tier is \"gold\"\n"
        "    variables: {user: {custom: {tier: gold}}}\n    expect: true\n",
    )
    pytester.makepyfile(test_fixtures=textwrap.dedent("""
        def test_schema_from_option(audience_schema):
            assert audience_schema.type_at("user", ["tier"]).enum == ("gold", "silver")

        def test_evaluate_audience_matches(evaluate_audience):
            result = evaluate_audience('user\\'s tier is "gold"', {"user": {"tier": "gold"}})
            assert result
            assert result.value is True

        def test_evaluate_audience_explains_a_failed_comparison(evaluate_audience):
            result = evaluate_audience('user\\'s tier is "gold"', {"user": {"tier": "silver"}})
            assert result == True
    """))
    result = pytester.runpytest("--audience-schema", "tiers.yaml")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines([
        "*audience gave False, expected True*",
        "*user's tier is \"gold\"  =>  false*",
        "*reads user's tier = \"silver\"*",
    ])


def test_conftest_can_override_audience_schema(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent("""
        import pytest
        from segmentql.schema import Schema

        @pytest.fixture
        def audience_schema():
            return Schema.default().extend({"custom": {"user": {"score": {"type": "integer"}}}})
    """))
    pytester.makepyfile(test_score=textwrap.dedent("""
        def test_score(evaluate_audience):
            assert evaluate_audience("user's score > 3", {"user": {"score": 4}}) == True
    """))
    pytester.runpytest().assert_outcomes(passed=1)


def test_assert_audience_in_a_user_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_helper=textwrap.dedent("""
        from segmentql.testing import assert_audience

        def test_passes():
            assert_audience('user\\'s firstName is "Ann"', {"user": {"firstName": "Ann"}}, True)

        def test_fails():
            assert_audience('user\\'s firstName is "Ann"', {"user": {"firstName": "Bo"}}, True)
    """))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*AssertionError: expected a match, got no match (value False)*",
        "*reads user's firstName = \"Bo\"*",
    ])


def test_the_documented_example_passes(pytester: pytest.Pytester) -> None:
    for name in ("test_pricing.audience.yaml", "pricing.schema.yaml"):
        shutil.copy(EXAMPLES / name, pytester.path / name)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(
        ["*test_pricing.audience.yaml::pro user landing on pricing PASSED*"]
    )


def test_plugin_module_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, segmentql.testing.plugin\n"
        "heavy = [m for m in ('yaml', 'segmentql.compiler', 'segmentql.checker', "
        "'segmentql.state', 'lark', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"HYPOTHESIS_NO_PLUGINS": "1", "PATH": ""})
    assert out.stdout.strip() == ""


def test_json_files_skips_and_bad_events(pytester: pytest.Pytester) -> None:
    _write(
        pytester, "test_json.audience.json",
        '{"audiences": {"anon": "user is anonymous"},\n'
        ' "cases": [{"name": "no id", "audience": "anon", "variables": {"user": {}},'
        ' "expect": true}]}\n',
    )
    _write(
        pytester, "test_more.audience.yaml",
        "cases:\n"
        "  - name: later\n    query: user is anonymous\n    variables: {}\n"
        "    expect: true\n    skip: not yet\n"
        "  - name: bad events\n    query: user is anonymous\n"
        "    events: [{type: identify}]\n    expect: true\n",
    )
    result = pytester.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1, failed=1)
    result.stdout.fnmatch_lines([
        "test_more.audience.yaml:7: case 'bad events'",
        "the case's events cannot be applied: event 0: *userId*",
        "*SKIPPED*not yet*",
    ])


EVENTS_FAILING = """\
audiences:
  readers: |
    user's plan is "pro"
      and user has viewed a page with url like "blog" at least 2 times in the last 7 days
cases:
  - name: one blog view is not enough
    audience: readers
    now: "2024-05-10T12:00:00Z"
    variables:
      user: {plan: pro}
      events:
        - {type: pageOpened, timestamp: "2024-05-09T10:00:00Z", properties: {url: "/blog/a"}}
        - {type: pageOpened, timestamp: "2024-05-09T11:00:00Z", properties: {url: "/home"}}
        - {type: pageOpened, timestamp: "2024-04-01T11:00:00Z", properties: {url: "/blog/b"}}
    expect: true
  - name: broken query
    query: user's plan is "pro" and user's age is at least
    variables: {user: {plan: pro}}
    expect: true
"""


def test_failure_shows_events_and_points_into_the_yaml(pytester: pytest.Pytester) -> None:
    _write(pytester, "test_readers.audience.yaml", EVENTS_FAILING)
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "audience 'readers': expected a match, got no match (value False)",
        "query at: test_readers.audience.yaml:3:5",
        "decided by: user has viewed a page with url like \"blog\" at least 2 times in the "
        "last 7 days (test_readers.audience.yaml:4:11)",
        "*events of type 'pageOpened' (in the last 7 days, from 2024-05-03T12:00:00Z "
        "to 2024-05-10T12:00:00Z): 2 in the window, 3 in all",
        "*events?0? at 2024-05-09T10:00:00Z: matched (url like \"blog\" => true)",
        "*events?1? at 2024-05-09T11:00:00Z: not matched (url like \"blog\" => false)",
        "*events?2? at 2024-04-01T11:00:00Z: outside the window",
        "*count: 1 matched, needs at least 2",
    ])
    # a query that does not compile: the diagnostic points at the file, not at `<query>`
    result.stdout.fnmatch_lines(["*--> test_readers.audience.yaml:17:*"])
    assert "<query>" not in result.stdout.str()


RUNTIME_ERROR = """\
audiences:
  older: user's age + 1 > 30
cases:
  - name: age held as text
    audience: older
    variables: {user: {age: "forty"}}
    expect: true
"""


def test_runtime_error_shows_the_source_line_and_value(pytester: pytest.Pytester) -> None:
    _write(pytester, "test_older.audience.yaml", RUNTIME_ERROR)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "audience 'older': expected a match, got error Q301: "
        "'+' is not defined for string and integer",
        "error?Q301?: '+' is not defined for string and integer",
        " --> test_older.audience.yaml:2:10",
        "1 | user's age + 1 > 30",
        "*= note: user's age is \"forty\"",
    ])


def test_query_origin_positions() -> None:
    from segmentql.testing.audience_file import QueryOrigin, read_audience_file

    def origin_of(tmp: Path, text: str) -> QueryOrigin:
        path = tmp / "test_o.audience.yaml"
        path.write_text(text, encoding="utf-8")
        [case] = read_audience_file(path).cases
        assert case.origin is not None
        return case.origin

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        head = "cases:\n  - variables: {}\n    expect: true\n    query: "
        plain = origin_of(tmp, head + "user's age > 3 and\n      user's plan is \"pro\"\n")
        assert plain.position(1, 1) == (4, 12)
        # folded plain scalar: a column past the first file line is found by its text
        assert plain.position(1, 20, "user's plan") == (5, 7)
        quoted = origin_of(tmp, head + "'user''s age > 3'\n")
        assert quoted.position(1, 8, "age > 3") == (4, 21)
        double = origin_of(tmp, head + '"user\'s age > 3"\n')
        assert double.position(1, 8) == (4, 20)
        block = origin_of(tmp, head + "|\n      user's age > 3\n      and user is returning\n")
        assert block.position(2, 5) == (6, 11)
