"""Diagnostics met in everyday use (issue #14) and the quick fixes that apply their advice."""

from __future__ import annotations

import pytest

from segmentql.checker import check
from segmentql.diagnostics import Diagnostic
from segmentql.schema import Schema

from .error_docs import load_entries

SCHEMA = Schema.from_dict({"custom": {"user": {"tier": {"type": "string",
                                                        "enum": ["free", "plus", "pro"]}}}})


def _first(query: str, code: str) -> Diagnostic:
    found = [d for d in check(query, SCHEMA) if d.code == code]
    assert found, f"no {code} for {query!r}: {check(query, SCHEMA)}"
    return found[0]


def _fixed(query: str, code: str) -> list[str]:
    return [fix.apply(query) for fix in _first(query, code).fixes]


@pytest.mark.parametrize(
    ("query", "code", "fixed"),
    [
        # the user forgot `is`
        ("user's tier in [\"free\", \"plus\"]", "Q124", ["user's tier is in [\"free\", \"plus\"]"]),
        # the quotes were lost: an allowed value, or no known name
        ("user's tier is plus", "Q106", ["user's tier is \"plus\""]),
        ("user's custom's tier is PLUS", "Q106", ["user's custom's tier is \"plus\""]),
        ("user's name is bob", "Q106", ["user's name is \"bob\""]),
        # test wording inside event criteria
        ('user has viewed a page with url contains "pricing"', "Q125",
         ['user has viewed a page with url containing "pricing"',
          'user has viewed a page with url like "pricing"']),
        ('user has viewed a page with url starts with "/blog"', "Q125",
         ['user has viewed a page with url starting with "/blog"']),
        ('user has viewed a page with title is "Home"', "Q125",
         ['user has viewed a page with title equal to "Home"']),
        # typographic quotes
        ("user's name is “Ann”", "Q126", ["user's name is \"Ann\""]),
        ("user's name is ‘Ann’", "Q126", ["user's name is \"Ann\""]),
        ('user’s name is "Ann"', "Q126", ['user\'s name is "Ann"']),
        # a wrong-case enum value
        ('user\'s tier is "Plus"', "Q207", ['user\'s tier is "plus"']),
        # did-you-mean names, functions, operators, case styles
        ('user\'s emial ends with "@acme.com"', "Q202", ['user\'s email ends with "@acme.com"']),
        ('usr\'s name is "Ann"', "Q200", ['user\'s name is "Ann"']),
        ('user\'s name endswith "x"', "Q101", ['user\'s name ends with "x"']),
        ("user's name in lowr case is \"ann\"", "Q120", ["user's name in lower case is \"ann\""]),
        ('user has viewed a page with title starting wiht "x"', "Q101",
         ['user has viewed a page with title starting with "x"']),
        ("1.5 rounded half upp", "Q120", ["1.5 rounded half up"]),
    ],
)
def test_each_quick_fix_gives_a_clean_query(query: str, code: str, fixed: list[str]) -> None:
    assert _fixed(query, code) == fixed
    errors = [d for d in check(fixed[0], SCHEMA) if d.is_error]
    assert errors == []


def test_a_bound_name_after_is_keeps_the_expression_advice() -> None:
    d = _first("let wanted = \"plus\"; user's tier is wanted", "Q106")
    assert d.fixes == () and "is equal to" in d.message
    # an allowed value wins over a bound name: the quotes were most likely lost
    assert _fixed("let plus = 1; user's tier is plus", "Q106") == [
        "let plus = 1; user's tier is \"plus\""]


def test_fixes_are_in_the_json_form() -> None:
    d = _first("user's tier in [\"free\"]", "Q124")
    data = d.to_json()
    assert data["fixes"] == [{"title": "Replace `in` with `is in`", "span": d.span.to_json(),
                              "replacement": "is in"}]
    assert Diagnostic.from_json(data) == d


def test_wrong_case_enum_value_says_did_you_mean() -> None:
    d = _first('user\'s tier is "PRO"', "Q207")
    assert d.suggestions[0] == "pro" and 'did you mean "pro"' in (d.help or "")


def test_messages_name_the_rewrite() -> None:
    assert "did you mean the string \"plus\"" in _first("user's tier is plus", "Q106").message
    assert "'containing' or 'like'" in _first(
        'user has viewed a page with url contains "x"', "Q125").message
    assert _first("user's name is “Ann”", "Q126").help == 'write "Ann"'


def _bad_queries() -> list[str]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "syntax"))
    from syntax_corpus import invalid_queries  # type: ignore[import-not-found]

    queries = [case.query for case in invalid_queries()]
    queries += [entry.query for entry in load_entries()]
    return queries


def test_every_fix_in_the_corpora_is_a_sound_edit() -> None:
    """Over the invalid grammar corpus and every docs/errors.md entry: each fix stays in the
    text, changes it, and the diagnostic it fixes is gone from that place afterwards."""
    fixed_count = 0
    for query in _bad_queries():
        for d in check(query, SCHEMA):
            for fix in d.fixes:
                assert 0 <= fix.span.start <= fix.span.end <= len(query), (query, fix)
                after = fix.apply(query)
                assert after != query, (query, fix)
                again = [e for e in check(after, SCHEMA)
                         if e.code == d.code and e.span.start == d.span.start]
                assert not again, (query, fix, again)
                fixed_count += 1
    assert fixed_count >= 10


def test_check_json_carries_the_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from segmentql.cli import main

    assert main(["check", 'user has viewed a page with url contains "pricing"',
                 "--format", "json"]) == 1
    [diagnostic] = json.loads(capsys.readouterr().out)["diagnostics"]
    assert diagnostic["code"] == "Q125"
    assert [f["replacement"] for f in diagnostic["fixes"]] == ["containing", "like"]
    assert diagnostic["fixes"][0]["span"]["column"] == 33
