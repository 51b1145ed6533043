"""`format_query` on text: every spelling of a construct prints as the one canonical form."""

from __future__ import annotations

import pytest

from segmentql.errors import QuerySyntaxError
from segmentql.syntax.formatter import format_query
from segmentql.syntax.parser import parse

SPELLINGS: list[tuple[str, str]] = [
    # styles
    ('user.plan == "pro"', 'user\'s plan == "pro"'),
    ("user's score > 90", "user's score > 90"),
    ("user.score > 90 && user.age < 30 || !user.vip", "user's score > 90 and user's age < 30 or not user's vip"),
    ("the property city of user's address", "user's address' city"),
    ("property plan of user", "user's plan"),
    ("user's stats's pageviews", "user's stats' pageviews"),
    ("user['interests'][0]", 'user["interests"][0]'),
    ("user.interests[0]", "(user's interests)[0]"),
    # case
    ('USER\'s Plan IS "Pro"', 'USER\'s Plan is "Pro"'),
    ("TRUE AND NOT FALSE", "true and not false"),
    # words for symbols and the other way round
    ("1 plus 2 times 3", "1 + 2 * 3"),
    ("10 minus 4 divided by 2", "10 - 4 / 2"),
    ("7 modulo 2", "7 mod 2"),
    ("2 to power of 3", "2 ** 3"),
    ('user\'s name or else "Anonymous"', 'user\'s name ?? "Anonymous"'),
    ("x if y otherwise z", "x if y else z"),
    # literals
    ("'single'", '"single"'),
    ("'it\\'s'", '"it\'s"'),
    ('"tab\\there"', '"tab\\there"'),
    ("19.90", "19.90"),
    ("1E3", "1e3"),
    ("2.50e-4", "2.5e-4"),
    ("1 days", "1 day"),
    ("2 hour", "2 hours"),
    ("[ 1,2 ,3 ]", "[1, 2, 3]"),
    ('[ "k" : 1 ]', '["k": 1]'),
    ("[:]", "[:]"),
    ("~/a/si", "~/a/is"),
    # tests
    ('x is equal to "a"', 'x is "a"'),
    ("x is equal to y", "x is equal to y"),
    ("x is at least 3", "x is greater than or equal to 3"),
    ("x is at most 3", "x is less than or equal to 3"),
    ("x before y", "x is before y"),
    ("x includes 1", "x contains 1"),
    ("x include 1", "x contains 1"),
    ("x does not include 1", "x does not contain 1"),
    ("x is known", "x is defined"),
    ("x is <= 1", "x <= 1"),
    ("x contains neither y", "x contains none of y"),
    # quantifiers, macros, modifiers
    ("every x in c satisfy x", "every x in c satisfies x"),
    ("the count of x", "count of x"),
    ("the number of days between a and b", "number of days between a and b"),
    ("x rounded up", "x rounded"),
    ("x sorted ascending", "x sorted"),
    # events
    ("user has viewed page", "user has viewed a page"),
    ('user has viewed a page with url equal to "x"', 'user has viewed a page with url "x"'),
    ("user has placed an order 2 times", "user has placed an order exactly 2 times"),
    ("user has placed an order in last 5 days", "user has placed an order in the last 5 days"),
    ('user has viewed a page with url "a", title "b"',
     'user has viewed a page with url "a" and title "b"'),
    # comments and layout
    ("// note\nx /* why */ and y", "x and y"),
    ("let a = 1; let b = 2; a + b", "let a = 1;\nlet b = 2;\na + b"),
    ("(((x)))", "x"),
    ("(x and y) or z", "x and y or z"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "canonical"), SPELLINGS)
def test_spelling_prints_canonically(query: str, canonical: str) -> None:
    assert format_query(query) == canonical
    assert parse(canonical) == parse(query)
    assert format_query(canonical) == canonical


@pytest.mark.parametrize("query", ["", "user's plan is", "x is 1 + ", "((x)", "1 < 2 < 3 < 4"])
def test_bad_input_raises_query_syntax_error(query: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        format_query(query)
    assert caught.value.diagnostics
