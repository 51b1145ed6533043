"""The canonical text of every node type, on hand-built ASTs (no parser involved)."""

from __future__ import annotations

import decimal

import pytest

from segmentql.syntax import ast as A
from segmentql.syntax.formatter import NOT_CRITERION_START, format_ast

D = decimal.Decimal
USER = A.Variable("user")
SESSION = A.Variable("session")
X, Y, Z = A.Variable("x"), A.Variable("y"), A.Variable("z")


def s(value: str) -> A.StringLiteral:
    return A.StringLiteral(value)


def i(value: int) -> A.IntegerLiteral:
    return A.IntegerLiteral(value)


def attr(target: A.Expr, *names: str) -> A.Expr:
    for name in names:
        target = A.Attribute(target, name)
    return target


def tst(op: A.TestOp, subject: A.Expr, *args: A.Expr, **kw: object) -> A.Test:
    return A.Test(op, subject, tuple(args), **kw)  # type: ignore[arg-type]


def b(op: A.BinaryOp, left: A.Expr, right: A.Expr) -> A.Binary:
    return A.Binary(op, left, right)


CASES: list[tuple[A.Expr, str]] = [
    # literals
    (A.NullLiteral(), "null"),
    (A.BooleanLiteral(True), "true"),
    (A.BooleanLiteral(False), "false"),
    (i(42), "42"),
    (A.DecimalLiteral(D("19.90")), "19.90"),
    (A.DecimalLiteral(D("0.1")), "0.1"),
    (A.DecimalLiteral(D("1E+2")), "100.0"),
    (A.DecimalLiteral(D("1E-7")), "0.0000001"),
    (A.FloatLiteral(1000.0), "1e3"),
    (A.FloatLiteral(2.5e-4), "2.5e-4"),
    (A.FloatLiteral(1.5), "1.5e0"),
    (A.FloatLiteral(0.0), "0e0"),
    (s("pro"), '"pro"'),
    (s('say "hi"\\\n\t'), '"say \\"hi\\"\\\\\\n\\t"'),
    (s("it's 🎉"), '"it\'s 🎉"'),
    (A.RegexLiteral("^[a-z]{3}", "i"), "~/^[a-z]{3}/i"),
    (A.RegexLiteral("a/b\\/c", "ms"), "~/a\\/b\\/c/ms"),
    (A.DurationLiteral(2, A.DurationUnit.HOUR), "2 hours"),
    (A.DurationLiteral(1, A.DurationUnit.DAY), "1 day"),
    (A.DurationLiteral(-1, A.DurationUnit.DAY), "-1 day"),
    (A.DurationLiteral(D("1.5"), A.DurationUnit.DAY), "1.5 days"),
    (A.DurationLiteral(3, A.DurationUnit.WEEKEND_DAY), "3 weekend days"),
    (A.ListLiteral((i(1), i(2), i(3))), "[1, 2, 3]"),
    (A.ListLiteral(()), "[]"),
    (A.MapLiteral((A.MapEntry(s("code"), s("active")), A.MapEntry(s("n"), i(1)))),
     '["code": "active", "n": 1]'),
    (A.MapLiteral(()), "[:]"),
    # names and accessors
    (attr(USER, "plan"), "user's plan"),
    (attr(USER, "stats", "pageviews"), "user's stats' pageviews"),
    (attr(A.Variable("status"), "code"), "status' code"),
    (attr(USER, "address", "city"), "user's address' city"),
    (attr(A.DurationLiteral(2, A.DurationUnit.DAY), "x"), "(2 days)'s x"),
    (attr(USER, "first-name"), 'user["first-name"]'),
    (attr(USER, "if"), "user's if"),
    (attr(s("a"), "x"), '("a")\'s x'),
    (attr(A.RegexLiteral("a", "s"), "x"), "(~/a/s)'s x"),
    (A.Index(USER, s("interests")), 'user["interests"]'),
    (A.Index(attr(USER, "interests"), i(0)), "(user's interests)[0]"),
    (A.Index(A.Index(X, i(0)), i(1)), "x[0][1]"),
    (attr(A.Index(X, i(0)), "name"), "x[0]'s name"),
    (A.Call("price", (i(10), A.Unary(A.UnaryOp.PERCENT, i(5)))), "price(10, 5%)"),
    (A.Call("now_utc", ()), "now_utc()"),
    # operators
    (A.Unary(A.UnaryOp.NOT, X), "not x"),
    (A.Unary(A.UnaryOp.NEG, i(1)), "-1"),
    (A.Unary(A.UnaryOp.NEG, A.Unary(A.UnaryOp.NEG, i(1))), "- -1"),
    (A.Unary(A.UnaryOp.POS, attr(USER, "age")), "+user's age"),
    (A.Unary(A.UnaryOp.PERCENT, i(20)), "20%"),
    (A.Unary(A.UnaryOp.NEG, A.DurationLiteral(2, A.DurationUnit.DAY)), "-(2 days)"),
    (b(A.BinaryOp.AND, X, b(A.BinaryOp.OR, Y, Z)), "x and (y or z)"),
    (b(A.BinaryOp.OR, X, b(A.BinaryOp.AND, Y, Z)), "x or y and z"),
    (b(A.BinaryOp.OR, b(A.BinaryOp.OR, X, Y), Z), "x or y or z"),
    (b(A.BinaryOp.OR, X, b(A.BinaryOp.OR, Y, Z)), "x or (y or z)"),
    (b(A.BinaryOp.SUB, X, b(A.BinaryOp.SUB, Y, Z)), "x - (y - z)"),
    (b(A.BinaryOp.MUL, b(A.BinaryOp.ADD, X, Y), Z), "(x + y) * z"),
    (b(A.BinaryOp.MOD, X, i(2)), "x mod 2"),
    (b(A.BinaryOp.DIV, X, i(2)), "x / 2"),
    (b(A.BinaryOp.POW, X, b(A.BinaryOp.POW, Y, Z)), "x ** y ** z"),
    (b(A.BinaryOp.POW, b(A.BinaryOp.POW, X, Y), Z), "(x ** y) ** z"),
    (b(A.BinaryOp.POW, A.Unary(A.UnaryOp.NEG, X), i(2)), "-x ** 2"),
    (A.Unary(A.UnaryOp.NEG, b(A.BinaryOp.POW, X, i(2))), "-(x ** 2)"),
    (b(A.BinaryOp.CONCAT, s("1 + 1 = "), b(A.BinaryOp.ADD, i(1), i(1))), '"1 + 1 = " & 1 + 1'),
    (b(A.BinaryOp.RANGE, i(1), i(5)), "1 .. 5"),
    (b(A.BinaryOp.FALLBACK, attr(USER, "name"), s("Anonymous")), 'user\'s name ?? "Anonymous"'),
    (A.Unary(A.UnaryOp.NOT, b(A.BinaryOp.AND, X, Y)), "not (x and y)"),
    (A.Unary(A.UnaryOp.NOT, tst(A.TestOp.EQUAL, A.BooleanLiteral(True), A.BooleanLiteral(False))),
     "not true is false"),
    (A.Unary(A.UnaryOp.PERCENT, b(A.BinaryOp.ADD, X, i(1))), "(x + 1)%"),
    (A.Comparison((i(1), X, i(3)), (A.CompareOp.LT, A.CompareOp.LE)), "1 < x <= 3"),
    (A.Comparison((attr(USER, "score"), i(90)), (A.CompareOp.GT,)), "user's score > 90"),
    (A.Comparison((b(A.BinaryOp.CONCAT, X, Y), Z), (A.CompareOp.EQ,)), "x & y == z"),
    (A.Comparison((A.Comparison((X, Y), (A.CompareOp.EQ,)), Z), (A.CompareOp.NE,)),
     "(x == y) != z"),
    # conditionals
    (A.Conditional(A.Unary(A.UnaryOp.PERCENT, i(20)), A.Comparison((X, i(10)), (A.CompareOp.GE,)),
                   A.Conditional(A.Unary(A.UnaryOp.PERCENT, i(10)),
                                 A.Comparison((X, i(5)), (A.CompareOp.GE,)),
                                 A.Unary(A.UnaryOp.PERCENT, i(5)))),
     "20% if x >= 10 else 10% if x >= 5 else 5%"),
    (A.Conditional(X, Y, None), "x if y"),
    (A.Conditional(A.Conditional(X, Y, Z), Y, Z), "(x if y else z) if y else z"),
    (b(A.BinaryOp.ADD, A.Conditional(X, Y, Z), i(1)), "(x if y else z) + 1"),
    (A.ListLiteral((A.Conditional(X, Y, None), i(1))), "[(x if y), 1]"),
]  # fmt: skip


TESTS: list[tuple[A.Expr, str]] = [
    (tst(A.TestOp.EQUAL, attr(USER, "plan"), s("pro")), 'user\'s plan is "pro"'),
    (tst(A.TestOp.EQUAL, attr(USER, "plan"), s("free"), negated=True),
     'user\'s plan is not "free"'),
    (tst(A.TestOp.EQUAL, X, A.Unary(A.UnaryOp.NEG, i(1))), "x is -1"),
    (tst(A.TestOp.EQUAL, X, A.ListLiteral((i(1), s("a")))), 'x is [1, "a"]'),
    (tst(A.TestOp.EQUAL, X, b(A.BinaryOp.ADD, i(1), i(2))), "x is equal to 1 + 2"),
    (tst(A.TestOp.EQUAL, X, Y, negated=True), "x is not equal to y"),
    (tst(A.TestOp.EQUAL, X, s("A"), mode=A.CompareMode.IGNORING_CASE),
     'x is "A" ignoring case'),
    (tst(A.TestOp.EQUAL, X, Y, mode=A.CompareMode.CONSIDERING_NUMBERS),
     "x is equal to y considering numbers"),
    (tst(A.TestOp.GREATER, X, i(1)), "x is greater than 1"),
    (tst(A.TestOp.GREATER_EQUAL, X, i(1), negated=True),
     "x is not greater than or equal to 1"),
    (tst(A.TestOp.LESS, attr(A.Variable("cart"), "total"), i(150)),
     "cart's total is less than 150"),
    (tst(A.TestOp.LESS_EQUAL, X, i(1)), "x is less than or equal to 1"),
    (tst(A.TestOp.BETWEEN, X, i(1), i(3)), "x is between 1 and 3"),
    (tst(A.TestOp.BETWEEN, X, i(1), i(3), negated=True), "x is not between 1 and 3"),
    (tst(A.TestOp.BEFORE, A.Variable("yesterday"), s("2024-10-18")),
     'yesterday is before "2024-10-18"'),
    (tst(A.TestOp.AFTER, X, Y, negated=True), "x is not after y"),
    (tst(A.TestOp.AT_TIME, A.Variable("now"), s("12:00")), 'now is at "12:00"'),
    (tst(A.TestOp.STARTS_WITH, X, s("a")), 'x starts with "a"'),
    (tst(A.TestOp.STARTS_WITH, X, s("a"), negated=True), 'x does not start with "a"'),
    (tst(A.TestOp.ENDS_WITH, attr(USER, "email"), s("@croct.com")),
     'user\'s email ends with "@croct.com"'),
    (tst(A.TestOp.ENDS_WITH, X, s("a"), negated=True), 'x does not end with "a"'),
    (tst(A.TestOp.MATCHES, X, A.RegexLiteral("^a", "i")), "x matches ~/^a/i"),
    (tst(A.TestOp.MATCHES, X, s("a"), negated=True), 'x does not match "a"'),
    (tst(A.TestOp.LIKE, X, s("a")), 'x is like "a"'),
    (tst(A.TestOp.LIKE, X, s("a"), negated=True), 'x is not like "a"'),
    (tst(A.TestOp.CONTAINS, attr(USER, "interests"), s("rental")),
     'user\'s interests contains "rental"'),
    (tst(A.TestOp.CONTAINS, X, i(1), negated=True), "x does not contain 1"),
    (tst(A.TestOp.IN, attr(A.Variable("location"), "city"), attr(A.Variable("context"), "cities")),
     "location's city is in context's cities"),
    (tst(A.TestOp.IN, X, Y, negated=True), "x is not in y"),
    (tst(A.TestOp.CONTAINS_ALL, X, Y), "x contains all of y"),
    (tst(A.TestOp.CONTAINS_ALL, X, Y, negated=True), "x does not contain all of y"),
    (tst(A.TestOp.CONTAINS_EITHER, X, Y), "x contains either y"),
    (tst(A.TestOp.CONTAINS_EITHER, X, Y, negated=True), "x does not contain either y"),
    (tst(A.TestOp.CONTAINS_NONE, X, Y), "x contains none of y"),
    (tst(A.TestOp.DEFINED, X), "x is defined"),
    (tst(A.TestOp.DEFINED, X, negated=True), "x is not defined"),
    (tst(A.TestOp.EMPTY, X), "x is empty"),
    (tst(A.TestOp.EMPTY, X, negated=True), "x is not empty"),
    (tst(A.TestOp.ANONYMOUS, USER), "user is anonymous"),
    (tst(A.TestOp.IDENTIFIED, USER, negated=True), "user is not identified"),
    (tst(A.TestOp.RETURNING, USER), "user is returning"),
    (tst(A.TestOp.STARTING, SESSION, negated=True), "session is not starting"),
    (tst(A.TestOp.EQUAL, tst(A.TestOp.DEFINED, X), A.BooleanLiteral(True)),
     "(x is defined) is true"),
    (tst(A.TestOp.EQUAL, b(A.BinaryOp.CONCAT, X, Y), s("ab")), 'x & y is "ab"'),
    (tst(A.TestOp.IN, X, b(A.BinaryOp.RANGE, i(1), i(3))), "x is in 1 .. 3"),
]  # fmt: skip


def q(kind: A.QuantifierKind, cond: A.Expr, **kw: object) -> A.Quantifier:
    return A.Quantifier(kind, "item", A.Variable("cart"), cond, **kw)  # type: ignore[arg-type]


COND = tst(A.TestOp.EQUAL, attr(A.Variable("item"), "category"), s("Electronics"))

QUANTIFIERS_AND_MACROS: list[tuple[A.Expr, str]] = [
    (q(A.QuantifierKind.EVERY, COND),
     'every item in cart satisfies item\'s category is "Electronics"'),
    (q(A.QuantifierKind.SOME, COND, index="i"),
     'some item in cart indexed by i satisfies item\'s category is "Electronics"'),
    (q(A.QuantifierKind.NO, COND), 'no item in cart satisfies item\'s category is "Electronics"'),
    (q(A.QuantifierKind.EXACTLY, COND, count=i(2), distinct=True),
     'exactly 2 of any distinct item in cart satisfies item\'s category is "Electronics"'),
    (q(A.QuantifierKind.AT_LEAST, COND, count=i(1)),
     'at least 1 of any item in cart satisfies item\'s category is "Electronics"'),
    (q(A.QuantifierKind.AT_MOST, COND, count=i(3), index="n"),
     'at most 3 of any item in cart indexed by n satisfies item\'s category is "Electronics"'),
    (A.Unary(A.UnaryOp.NOT, q(A.QuantifierKind.EVERY, X)), "not every item in cart satisfies x"),
    (b(A.BinaryOp.AND, q(A.QuantifierKind.EVERY, X), Y),
     "(every item in cart satisfies x) and y"),
    (b(A.BinaryOp.AND, Y, q(A.QuantifierKind.EVERY, b(A.BinaryOp.OR, X, Z))),
     "y and every item in cart satisfies x or z"),
    (b(A.BinaryOp.OR, b(A.BinaryOp.AND, Y, q(A.QuantifierKind.EVERY, X)), Z),
     "y and (every item in cart satisfies x) or z"),
    (q(A.QuantifierKind.SOME, q(A.QuantifierKind.NO, X)),
     "some item in cart satisfies no item in cart satisfies x"),
    (A.Macro(A.MacroOp.COUNT, attr(USER, "tags")), "count of user's tags"),
    (tst(A.TestOp.EQUAL, A.Macro(A.MacroOp.COUNT, attr(USER, "tags")), i(2)),
     "count of user's tags is 2"),
    (A.Macro(A.MacroOp.SUM, A.ListLiteral((i(1), i(2)))), "sum of [1, 2]"),
    (A.Macro(A.MacroOp.MINIMUM, b(A.BinaryOp.ADD, X, Y)), "minimum of (x + y)"),
    (b(A.BinaryOp.ADD, A.Macro(A.MacroOp.MAXIMUM, X), Y), "maximum of x + y"),
    (A.Macro(A.MacroOp.KEYS, X), "keys of x"),
    (A.ThisPeriod(A.Period.WEEK), "this week"),
    (A.UnitsBetween(A.CountUnit.DAYS, A.Variable("today"), attr(USER, "birthday")),
     "number of days between today and user's birthday"),
    (A.UnitsBetween(A.CountUnit.WEEKEND_DAYS, X, Y), "number of weekend days between x and y"),
    # modifiers
    (A.Cast(A.Cast(s("2019-01-01"), A.CastType.DATETIME), A.CastType.DATE),
     '"2019-01-01" as datetime as date'),
    (A.AtTime(A.Variable("today"), s("12:00")), 'today at "12:00"'),
    (A.ChangeCase(attr(USER, "name"), A.CaseStyle.TITLE), "user's name in title case"),
    (A.Round(X), "x rounded"),
    (A.Round(X, A.RoundingMode.HALF_EVEN, i(2)), "x rounded half even with scale of 2"),
    (A.Round(X, A.RoundingMode.UP, i(0)), "x rounded with scale of 0"),
    (A.WithoutDuplicates(X), "x without duplicates"),
    (A.Sort(X), "x sorted"),
    (A.Sort(X, A.SortDirection.DESCENDING, A.SortOrder.NUMERICAL), "x sorted descending numerical"),
    (A.Sort(X, order=A.SortOrder.ALPHABETICAL), "x sorted alphabetical"),
    (A.Cast(b(A.BinaryOp.ADD, X, Y), A.CastType.STRING), "(x + y) as string"),
    (A.Cast(A.Unary(A.UnaryOp.NEG, X), A.CastType.STRING), "(-x) as string"),
    (A.Unary(A.UnaryOp.NEG, A.Cast(X, A.CastType.STRING)), "-x as string"),
    (A.Cast(attr(USER, "age"), A.CastType.STRING), "user's age as string"),
]  # fmt: skip


def ev(kind: A.EventKind, **kw: object) -> A.EventTest:
    return A.EventTest(kind, **kw)  # type: ignore[arg-type]


def crit(name: str, op: A.CriterionOp, value: A.Expr) -> A.Criterion:
    return A.Criterion(tuple(name.split(".")), op, value)


URL_LIKE = crit("url", A.CriterionOp.LIKE, s("x"))

EVENTS: list[tuple[A.Expr, str]] = [
    (ev(A.EventKind.CART_ABANDONED), "user has abandoned a cart"),
    (ev(A.EventKind.PRODUCT_ABANDONED, negated=True), "user has not abandoned a product"),
    (ev(A.EventKind.PRODUCT_VIEWED), "user has viewed a product"),
    (ev(A.EventKind.ORDER_PLACED, window=A.EventWindow(
        A.WindowKind.IN_LAST, A.DurationLiteral(5, A.DurationUnit.DAY))),
     "user has placed an order in the last 5 days"),
    (ev(A.EventKind.PRODUCT_ORDERED), "user has ordered a product"),
    (ev(A.EventKind.CAMPAIGN_VIEWED), "user has viewed a campaign"),
    (ev(A.EventKind.PAGE_OPENED, criteria=URL_LIKE,
        count=A.EventCount(A.CountOp.AT_LEAST, i(2)),
        window=A.EventWindow(A.WindowKind.IN_LAST, A.DurationLiteral(7, A.DurationUnit.DAY))),
     'user has viewed a page with url like "x" at least 2 times in the last 7 days'),
    (ev(A.EventKind.POST_VIEWED, window=A.EventWindow(A.WindowKind.THIS_SESSION)),
     "user has viewed a post this session"),
    (ev(A.EventKind.LINK_OPENED, count=A.EventCount(A.CountOp.EXACTLY, i(1))),
     "user has opened a link exactly 1 time"),
    (ev(A.EventKind.INTEREST_SHOWN, argument=s("rental"), determiner=A.TopicDeterminer.ANY),
     'user has shown interest in "rental"'),
    (ev(A.EventKind.INTEREST_SHOWN, argument=A.ListLiteral((s("a"), s("b"))),
        determiner=A.TopicDeterminer.NONE_OF),
     'user has shown interest in none of ["a", "b"]'),
    (ev(A.EventKind.EVENT_OCCURRED, argument=s("product-rated"),
        criteria=crit("details.rating", A.CriterionOp.EQUAL, i(5))),
     'user has experienced a custom event "product-rated" with details.rating 5'),
    (ev(A.EventKind.GOAL_COMPLETED, argument=s("signup"), window=A.EventWindow(A.WindowKind.TODAY)),
     'user has completed goal "signup" today'),
    (ev(A.EventKind.USER_SIGNED_IN, window=A.EventWindow(A.WindowKind.LAST_WEEK)),
     "user has signed in last week"),
    (ev(A.EventKind.USER_SIGNED_UP, negated=True), "user has not signed up"),
    (ev(A.EventKind.PAGE_OPENED, criteria=A.CriteriaGroup(A.CriteriaJoin.AND, (
        URL_LIKE, A.CriteriaGroup(A.CriteriaJoin.OR, (
            crit("title", A.CriterionOp.STARTING, s("a")),
            crit("referrer", A.CriterionOp.IN, A.ListLiteral((s("b"),)))))))),
     'user has viewed a page with url like "x" and (title starting with "a" or '
     'referrer in ["b"])'),
    (ev(A.EventKind.PAGE_OPENED, criteria=A.CriteriaGroup(A.CriteriaJoin.OR, (
        A.CriteriaGroup(A.CriteriaJoin.AND, (URL_LIKE, crit("title", A.CriterionOp.EQUAL, s("b")))),
        crit("referrer", A.CriterionOp.EQUAL, s("c"))))),
     'user has viewed a page with url like "x" and title "b" or referrer "c"'),
    (ev(A.EventKind.PAGE_OPENED, criteria=A.CriteriaGroup(A.CriteriaJoin.AND, (
        A.CriteriaGroup(A.CriteriaJoin.AND, (URL_LIKE, crit("title", A.CriterionOp.EQUAL, s("b")))),
        crit("referrer", A.CriterionOp.EQUAL, s("c"))))),
     'user has viewed a page with (url like "x" and title "b") and referrer "c"'),
    (ev(A.EventKind.ORDER_PLACED, criteria=A.CriteriaGroup(A.CriteriaJoin.AND, (
        crit("total", A.CriterionOp.EQUAL, i(1)),
        crit("cart.costs.packaging", A.CriterionOp.LESS, i(3))))),
     "user has placed an order with total 1 and packaging of cart.costs less than 3"),
    (ev(A.EventKind.ORDER_PLACED, criteria=crit("total", A.CriterionOp.EQUAL, X)),
     "user has placed an order with total equal to x"),
    (b(A.BinaryOp.AND, ev(A.EventKind.PAGE_OPENED, criteria=URL_LIKE),
       tst(A.TestOp.RETURNING, USER)),
     'user has viewed a page with url like "x" and user is returning'),
    (b(A.BinaryOp.AND, ev(A.EventKind.PAGE_OPENED, criteria=URL_LIKE),
       tst(A.TestOp.DEFINED, X)),
     '(user has viewed a page with url like "x") and x is defined'),
    (b(A.BinaryOp.OR, ev(A.EventKind.PAGE_OPENED, criteria=URL_LIKE,
                         window=A.EventWindow(A.WindowKind.YESTERDAY)), X),
     'user has viewed a page with url like "x" yesterday or x'),
    (A.Unary(A.UnaryOp.NOT, ev(A.EventKind.CART_ABANDONED)), "not user has abandoned a cart"),
]  # fmt: skip

LETS: list[tuple[A.Expr, str]] = [
    (A.Let((A.Binding("version", A.DecimalLiteral(D("1.0"))),),
           b(A.BinaryOp.CONCAT, b(A.BinaryOp.CONCAT, s("CQL version "), A.Variable("version")),
             s(" is here!"))),
     'let version = 1.0;\n"CQL version " & version & " is here!"'),
    (A.Let((A.Binding("price", A.Lambda(("value", "discount"), b(
        A.BinaryOp.SUB, A.Variable("value"),
        b(A.BinaryOp.MUL, A.Variable("value"), A.Variable("discount"))))),),
        A.Call("price", (i(100), A.Unary(A.UnaryOp.PERCENT, i(10))))),
     "let price = (value, discount) => value - value * discount;\nprice(100, 10%)"),
    (A.Let((A.Binding("f", A.Lambda(("s",), X)), A.Binding("g", A.Lambda((), i(1)))),
           A.Call("f", (A.Call("g", ()),))),
     "let f = s => x;\nlet g = () => 1;\nf(g())"),
    (A.Let((A.Binding("a", A.Conditional(X, Y, Z)),), A.Conditional(X, Y, None)),
     "let a = x if y else z;\nx if y"),
    (A.ListLiteral((A.Let((A.Binding("a", i(1)),), A.Variable("a")),)), "[(let a = 1; a)]"),
    (b(A.BinaryOp.ADD, A.Let((A.Binding("a", i(1)),), A.Variable("a")), i(1)),
     "(let a = 1; a) + 1"),
]  # fmt: skip


@pytest.mark.parametrize(("node", "text"), CASES + TESTS + QUANTIFIERS_AND_MACROS + EVENTS + LETS)
def test_canonical_text(node: A.Expr, text: str) -> None:
    assert format_ast(node) == text


def test_every_node_type_has_a_case() -> None:
    covered: set[type[A.Node]] = set()
    for node, _ in CASES + TESTS + QUANTIFIERS_AND_MACROS + EVENTS + LETS:
        covered.update(type(n) for n in node.walk())
    every = {cls for cls in vars(A).values() if isinstance(cls, type) and issubclass(cls, A.Node)}
    assert every - {A.Node} <= covered


def test_unprintable_float_is_an_error() -> None:
    with pytest.raises(ValueError, match="no literal form"):
        format_ast(A.FloatLiteral(float("inf")))


def test_non_expression_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not an expression node"):
        format_ast(A.Binding("a", i(1)))  # type: ignore[arg-type]


def test_criterion_start_words_cover_the_lexer_look_ahead() -> None:
    from segmentql.syntax import lexer

    assert lexer.NOT_CRITERION_START <= NOT_CRITERION_START


def test_very_deep_tree_is_a_value_error_not_a_recursion_error() -> None:
    node: A.Expr = X
    for _ in range(2000):
        node = A.Unary(A.UnaryOp.NOT, A.Binary(A.BinaryOp.AND, node, Y))
    with pytest.raises(ValueError, match="nested too deeply"):
        format_ast(node)


def test_parenthesised_open_constructs_print_in_linear_time() -> None:
    node: A.Expr = X
    for _ in range(60):  # each level re-prints its child inside parentheses
        node = A.Binary(A.BinaryOp.AND, A.Binary(A.BinaryOp.OR, Y, node), Z)
    text = format_ast(node)
    assert text.count("(") == 60
