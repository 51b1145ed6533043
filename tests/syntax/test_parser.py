"""The parser's decisions, one construct at a time (precedence, criteria joins, accessors...)."""

from __future__ import annotations

import decimal

import pytest

from segmentql.errors import QuerySyntaxError
from segmentql.syntax import ast
from segmentql.syntax.parser import (
    RESERVED_WORDS,
    ParseResult,
    parse,
    parse_with_diagnostics,
)

V = ast.Variable


def attr(target: ast.Expr, *names: str) -> ast.Expr:
    for name in names:
        target = ast.Attribute(target, name)
    return target


def integer(value: int) -> ast.IntegerLiteral:
    return ast.IntegerLiteral(value)


def string(value: str) -> ast.StringLiteral:
    return ast.StringLiteral(value)


# ------------------------------------------------------------------ accessors


@pytest.mark.parametrize(
    "query",
    [
        "user's address's city",
        "user.address.city",
        "property city of user's address",
        "the property city of property address of user",
        "user.address's city",
        "(user's address).city",
    ],
)
def test_accessor_styles_build_the_same_tree(query: str) -> None:
    assert parse(query) == attr(V("user"), "address", "city")


def test_s_apostrophe_after_a_word_ending_in_s() -> None:
    assert parse("user's stats' sessions") == attr(V("user"), "stats", "sessions")


def test_a_quote_after_whitespace_starts_a_string() -> None:
    query = "user has viewed a page with url 'a' or url 'b'"
    event = parse(query)
    assert isinstance(event, ast.EventTest)
    assert event.criteria == ast.CriteriaGroup(
        ast.CriteriaJoin.OR,
        (ast.Criterion(("url",), ast.CriterionOp.EQUAL, string("a")),
         ast.Criterion(("url",), ast.CriterionOp.EQUAL, string("b"))),
    )


def test_keywords_are_names_after_accessors() -> None:
    assert parse("page's title") == attr(V("page"), "title")
    assert parse("x.is.not") == attr(V("x"), "is", "not")
    assert parse("property count of x") == attr(V("x"), "count")


def test_names_keep_their_case_and_keywords_do_not_matter() -> None:
    assert parse("USER's Plan IS \"Pro\"") == ast.Test(
        ast.TestOp.EQUAL, attr(V("USER"), "Plan"), (string("Pro"),)
    )


def test_brackets_and_mixing() -> None:
    assert parse("(user's interests)[0]") == ast.Index(attr(V("user"), "interests"), integer(0))
    assert parse("user['first name']") == ast.Index(V("user"), string("first name"))


def test_words_that_start_macros_are_still_names() -> None:
    node = parse("every number in [2, 4, 6] satisfies number mod 2 is 0")
    assert isinstance(node, ast.Quantifier)
    assert node.item == "number"
    assert parse("let count = 1; count + first") == ast.Let(
        (ast.Binding("count", integer(1)),),
        ast.Binary(ast.BinaryOp.ADD, V("count"), V("first")),
    )


# ------------------------------------------------------------------ precedence


def test_and_binds_tighter_than_or() -> None:
    node = parse("a or b and c")
    assert node == ast.Binary(ast.BinaryOp.OR, V("a"), ast.Binary(ast.BinaryOp.AND, V("b"), V("c")))


def test_not_is_looser_than_tests() -> None:
    assert parse("not true is false") == ast.Unary(
        ast.UnaryOp.NOT,
        ast.Test(ast.TestOp.EQUAL, ast.BooleanLiteral(True), (ast.BooleanLiteral(False),)),
    )


def test_symbols_and_words_are_the_same_operators() -> None:
    assert parse("!a && b || c") == parse("not a and b or c")
    assert parse("1 plus 2 times 3") == parse("1 + 2 * 3")
    assert parse("6 divided by 3 modulo 2") == parse("6 / 3 mod 2")
    assert parse("2 to the power of 3") == parse("2 ** 3")
    assert parse("a or else b") == parse("a ?? b")


def test_power_is_right_associative_and_unary_binds_tighter() -> None:
    assert parse("2 ** 3 ** 2") == ast.Binary(
        ast.BinaryOp.POW, integer(2), ast.Binary(ast.BinaryOp.POW, integer(3), integer(2))
    )
    assert parse("-2 ** 2") == ast.Binary(
        ast.BinaryOp.POW, ast.Unary(ast.UnaryOp.NEG, integer(2)), integer(2)
    )


def test_concat_is_looser_than_range_and_arithmetic() -> None:
    assert parse("'a' & 1 .. 2 + 1") == ast.Binary(
        ast.BinaryOp.CONCAT, string("a"),
        ast.Binary(ast.BinaryOp.RANGE, integer(1),
                   ast.Binary(ast.BinaryOp.ADD, integer(2), integer(1))),
    )


def test_fallback_is_looser_than_or() -> None:
    assert parse("a or b ?? c") == ast.Binary(
        ast.BinaryOp.FALLBACK, ast.Binary(ast.BinaryOp.OR, V("a"), V("b")), V("c")
    )


def test_conditional_chain_is_right_nested_and_else_is_optional() -> None:
    node = parse("1 if a else 2 if b otherwise 3")
    inner = ast.Conditional(integer(2), V("b"), integer(3))
    assert node == ast.Conditional(integer(1), V("a"), inner)
    assert parse("1 if a") == ast.Conditional(integer(1), V("a"), None)


def test_percent_and_modifiers() -> None:
    assert parse("-20%") == ast.Unary(ast.UnaryOp.NEG, ast.Unary(ast.UnaryOp.PERCENT, integer(20)))
    assert parse("-x as integer") == ast.Unary(
        ast.UnaryOp.NEG, ast.Cast(V("x"), ast.CastType.INTEGER)
    )


def test_macros_bind_like_unary_operators() -> None:
    assert parse("count of user's tags is 2") == ast.Test(
        ast.TestOp.EQUAL, ast.Macro(ast.MacroOp.COUNT, attr(V("user"), "tags")), (integer(2),)
    )
    assert parse("sum of x + 1") == ast.Binary(
        ast.BinaryOp.ADD, ast.Macro(ast.MacroOp.SUM, V("x")), integer(1)
    )


def test_quantifier_condition_extends_right() -> None:
    node = parse("a and every x in c satisfies x > 1 or y")
    assert node == ast.Binary(
        ast.BinaryOp.AND, V("a"),
        ast.Quantifier(
            ast.QuantifierKind.EVERY, "x", V("c"),
            ast.Binary(ast.BinaryOp.OR,
                       ast.Comparison((V("x"), integer(1)), (ast.CompareOp.GT,)), V("y")),
        ),
    )
    assert parse("not every x in c satisfies x") == ast.Unary(
        ast.UnaryOp.NOT, ast.Quantifier(ast.QuantifierKind.EVERY, "x", V("c"), V("x"))
    )


def test_count_quantifier() -> None:
    node = parse("at least 2 of any distinct item in cart indexed by i satisfies i > 0")
    assert node == ast.Quantifier(
        ast.QuantifierKind.AT_LEAST, "item", V("cart"),
        ast.Comparison((V("i"), integer(0)), (ast.CompareOp.GT,)),
        index="i", count=integer(2), distinct=True,
    )


# ------------------------------------------------------------------ comparisons and tests


def test_comparison_chain_of_two() -> None:
    assert parse("1 < x <= 3") == ast.Comparison(
        (integer(1), V("x"), integer(3)), (ast.CompareOp.LT, ast.CompareOp.LE)
    )


def test_is_followed_by_an_operator_is_a_comparison() -> None:
    assert parse("x is <= 1") == ast.Comparison((V("x"), integer(1)), (ast.CompareOp.LE,))


@pytest.mark.parametrize(
    ("query", "op", "negated", "args"),
    [
        ("x is 'a'", ast.TestOp.EQUAL, False, 1),
        ("x is not null", ast.TestOp.EQUAL, True, 1),
        ("x is not equal to y", ast.TestOp.EQUAL, True, 1),
        ("x is at least 1", ast.TestOp.GREATER_EQUAL, False, 1),
        ("x is greater than or equal to 1", ast.TestOp.GREATER_EQUAL, False, 1),
        ("x is not at most 1", ast.TestOp.LESS_EQUAL, True, 1),
        ("x is between 1 and 2", ast.TestOp.BETWEEN, False, 2),
        ("x before y", ast.TestOp.BEFORE, False, 1),
        ("x is not after y", ast.TestOp.AFTER, True, 1),
        ("x is at '12:00'", ast.TestOp.AT_TIME, False, 1),
        ("x does not start with 'a'", ast.TestOp.STARTS_WITH, True, 1),
        ("x does not match 'a'", ast.TestOp.MATCHES, True, 1),
        ("x is not like 'a'", ast.TestOp.LIKE, True, 1),
        ("x include 'a'", ast.TestOp.CONTAINS, False, 1),
        ("x does not include 'a'", ast.TestOp.CONTAINS, True, 1),
        ("x is not in y", ast.TestOp.IN, True, 1),
        ("x includes all of y", ast.TestOp.CONTAINS_ALL, False, 1),
        ("x does not contain either y", ast.TestOp.CONTAINS_EITHER, True, 1),
        ("x contains neither y", ast.TestOp.CONTAINS_NONE, False, 1),
        ("x contains none of y", ast.TestOp.CONTAINS_NONE, False, 1),
        ("x is known", ast.TestOp.DEFINED, False, 0),
        ("x is not empty", ast.TestOp.EMPTY, True, 0),
        ("user is not identified", ast.TestOp.IDENTIFIED, True, 0),
        ("session is starting", ast.TestOp.STARTING, False, 0),
    ],
)
def test_tests(query: str, op: ast.TestOp, negated: bool, args: int) -> None:
    node = parse(query)
    assert isinstance(node, ast.Test)
    assert (node.op, node.negated, len(node.args)) == (op, negated, args)


def test_comparison_modes() -> None:
    node = parse("x is equal to y ignoring case")
    assert isinstance(node, ast.Test) and node.mode is ast.CompareMode.IGNORING_CASE
    node = parse("1 is equal to '1' considering numbers")
    assert isinstance(node, ast.Test) and node.mode is ast.CompareMode.CONSIDERING_NUMBERS


def test_tests_are_not_associative() -> None:
    assert not parse_with_diagnostics("a is 1 is 2").ok
    assert not parse_with_diagnostics("a contains b contains c").ok


def test_is_takes_only_a_literal() -> None:
    result = parse_with_diagnostics("1 + 2 is result")
    assert [d.code for d in result.diagnostics] == ["Q106"]
    assert result.diagnostics[0].message == (
        "'is' takes a literal here; use 'is equal to' to compare with an expression"
    )
    for literal in ("-1", "20%", "[1, [2, 'a']]", "['k': -1.5]", "2 hours", "~/a/", "null"):
        assert parse_with_diagnostics(f"x is {literal}").ok, literal


# ------------------------------------------------------------------ literals


def test_numbers() -> None:
    assert parse("9223372036854775807") == integer(2**63 - 1)
    assert parse("-9223372036854775808") == ast.Unary(ast.UnaryOp.NEG, integer(2**63))
    node = parse("19.90")
    assert isinstance(node, ast.DecimalLiteral) and str(node.value) == "19.90"
    assert parse("2.5E-4") == ast.FloatLiteral(2.5e-4)
    assert parse("1e3") == ast.FloatLiteral(1000.0)


def test_strings() -> None:
    assert parse(r'"a\"b\\c\'d\ne\tf\u00e9"') == string("a\"b\\c'd\ne\tfé")
    assert parse(r'"\uD83D\uDE00"') == string("\U0001F600")
    assert parse(r"'raw\n\'q\''") == string("raw\\n'q'")


def test_regex_flags_are_sorted() -> None:
    assert parse("~/a\\/b/si") == ast.RegexLiteral("a/b", "is")


def test_durations() -> None:
    assert parse("-1 day") == ast.DurationLiteral(-1, ast.DurationUnit.DAY)
    assert parse("+2 hours") == ast.DurationLiteral(2, ast.DurationUnit.HOUR)
    assert parse("1.5 weekend days") == ast.DurationLiteral(
        decimal.Decimal("1.5"), ast.DurationUnit.WEEKEND_DAY
    )
    assert parse("-(1 day)") == ast.Unary(
        ast.UnaryOp.NEG, ast.DurationLiteral(1, ast.DurationUnit.DAY)
    )


def test_collections() -> None:
    assert parse("[:]") == ast.MapLiteral(())
    assert parse("[]") == ast.ListLiteral(())
    assert parse("['a': 1]") == ast.MapLiteral((ast.MapEntry(string("a"), integer(1)),))


# ------------------------------------------------------------------ let and functions


def test_let_and_functions() -> None:
    node = parse("let f = (a, b) => a; let g = x => x; let h = () => 1; let k = (y) => y; f(1, 2)")
    assert isinstance(node, ast.Let)
    assert [b.name for b in node.bindings] == ["f", "g", "h", "k"]
    params = [b.value.params for b in node.bindings if isinstance(b.value, ast.Lambda)]
    assert params == [("a", "b"), ("x",), (), ("y",)]
    assert node.body == ast.Call("f", (integer(1), integer(2)))


# ------------------------------------------------------------------ events


def test_event_criteria_and_decides_by_what_follows() -> None:
    node = parse(
        'user has viewed a page with url like "a" and title "b" and user is returning'
    )
    assert isinstance(node, ast.Binary) and node.op is ast.BinaryOp.AND
    event = node.left
    assert isinstance(event, ast.EventTest)
    assert event.criteria == ast.CriteriaGroup(
        ast.CriteriaJoin.AND,
        (ast.Criterion(("url",), ast.CriterionOp.LIKE, string("a")),
         ast.Criterion(("title",), ast.CriterionOp.EQUAL, string("b"))),
    )
    assert node.right == ast.Test(ast.TestOp.RETURNING, V("user"))


def test_event_criteria_and_before_a_let_variable_ends_the_event() -> None:
    node = parse("let n = 1; user has viewed a page with url 'a' and n > 1")
    assert isinstance(node, ast.Let) and isinstance(node.body, ast.Binary)


def test_event_criteria_groups() -> None:
    node = parse("user has viewed a page with (url 'a' or url 'b') and title 'c', referrer 'd'")
    assert isinstance(node, ast.EventTest)
    criteria = node.criteria
    assert isinstance(criteria, ast.CriteriaGroup) and criteria.join is ast.CriteriaJoin.AND
    assert len(criteria.items) == 3
    assert isinstance(criteria.items[0], ast.CriteriaGroup)
    assert criteria.items[0].join is ast.CriteriaJoin.OR


def test_event_paths() -> None:
    node = parse(
        "user has abandoned a cart with packaging of property costs of cart 1, details.rating 2"
    )
    assert isinstance(node, ast.EventTest) and isinstance(node.criteria, ast.CriteriaGroup)
    assert [c.path for c in node.criteria.items if isinstance(c, ast.Criterion)] == [
        ("cart", "costs", "packaging"), ("details", "rating"),
    ]


def test_event_full_form() -> None:
    node = parse(
        "user has not viewed the page with url like 'x' at least 2 times in the last 7 days"
    )
    assert node == ast.EventTest(
        ast.EventKind.PAGE_OPENED, negated=True,
        criteria=ast.Criterion(("url",), ast.CriterionOp.LIKE, string("x")),
        count=ast.EventCount(ast.CountOp.AT_LEAST, integer(2)),
        window=ast.EventWindow(
            ast.WindowKind.IN_LAST, ast.DurationLiteral(7, ast.DurationUnit.DAY)
        ),
    )


def test_event_arguments() -> None:
    assert parse("user has completed goal 'g'") == ast.EventTest(
        ast.EventKind.GOAL_COMPLETED, argument=string("g")
    )
    assert parse("user has shown interest in either ['a']") == ast.EventTest(
        ast.EventKind.INTEREST_SHOWN, argument=ast.ListLiteral((string("a"),)),
        determiner=ast.TopicDeterminer.EITHER,
    )
    assert parse("user has shown interest in 'a'") == ast.EventTest(
        ast.EventKind.INTEREST_SHOWN, argument=string("a"), determiner=ast.TopicDeterminer.ANY
    )


def test_event_subject_must_be_user() -> None:
    result = parse_with_diagnostics("session has signed in")
    assert [d.code for d in result.diagnostics] == ["Q116"]


# ------------------------------------------------------------------ API contract


def test_parse_raises_with_every_diagnostic() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse('"\\q" & "\\z" & 99999999999999999999')
    assert [d.code for d in info.value.diagnostics] == ["Q104", "Q104", "Q108"]
    assert info.value.source.startswith('"')


def test_parse_result() -> None:
    result = parse_with_diagnostics("x is y")
    assert isinstance(result, ParseResult)
    assert result.ast is not None and not result.ok  # shaped like a query, but Q106
    bad = parse_with_diagnostics("x is")
    assert bad.ast is None and not bad.ok


def test_end_of_input_points_at_the_end() -> None:
    text = "user's plan is"
    result = parse_with_diagnostics(text)
    (diag,) = result.diagnostics
    assert diag.message == "expected a value after 'is'"
    assert (diag.span.start, diag.span.end) == (len(text), len(text))
    assert (diag.span.line, diag.span.column) == (1, len(text) + 1)


def test_limits_are_configurable() -> None:
    assert [d.code for d in parse_with_diagnostics("x" * 10, max_length=9).diagnostics] == [
        "Q150"
    ]
    assert parse_with_diagnostics("x" * 10, max_length=10).ok
    assert parse_with_diagnostics("x" * 500).ok
    assert [d.code for d in parse_with_diagnostics("((x))", max_depth=1).diagnostics] == [
        "Q151"
    ]
    assert [d.code for d in parse_with_diagnostics("not not x", max_depth=2).diagnostics] == [
        "Q151"
    ]
    assert parse_with_diagnostics("not not x", max_depth=3).ok


def test_deep_nesting_never_recurses() -> None:
    text = "[" * 3000 + "]" * 3000
    result = parse_with_diagnostics(text, max_length=10_000, max_depth=5000)
    assert result.ok
    text = "not " * 2000 + "x"
    assert parse_with_diagnostics(text, max_length=10_000, max_depth=5000).ok


def test_reserved_words_cannot_be_variables_but_others_can() -> None:
    for word in RESERVED_WORDS:
        result = parse_with_diagnostics(f"{word} == 1")
        if result.ok and result.ast is not None:
            names = [n.name for n in result.ast.walk() if isinstance(n, ast.Variable)]
            assert word not in names, word
    for word in ("is", "count", "number", "title", "today", "first", "page", "in"):
        assert parse(f"{word} == 1") == ast.Comparison(
            (V(word), integer(1)), (ast.CompareOp.EQ,)
        ), word


def test_formatter_agrees_on_reserved_words() -> None:
    from segmentql.syntax import formatter

    assert formatter.RESERVED_WORDS == RESERVED_WORDS


def test_parsing_from_many_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = [f"user's n{i} is {i} and user has viewed a page with url 'u{i}' and title 't'"
               for i in range(40)] + [f"x{i} is" for i in range(40)]
    expected = [parse_with_diagnostics(q) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(parse_with_diagnostics, queries * 3))
    for got, want in zip(results, expected * 3, strict=True):
        assert got.ast == want.ast
        assert [d.to_json() for d in got.diagnostics] == [d.to_json() for d in want.diagnostics]
