"""Hypothesis strategies that build query ASTs (not strings).

Every AST drawn here is one the grammar can produce: names are identifiers and not reserved
words, numbers are non-negative (a sign is a `Unary`), comparison chains have at most two
operators, tests have the arity of their form, `let` appears only at the top of a query and
functions only as `let` values. `format_ast` of any of them parses back to the same AST.

The building blocks are public so that typed generators (`queries(schema)`) can reuse them:
`identifiers`, `scalar_literals`, `literals`, `durations`, `criteria`, `event_tests`, and the
`*_of(children)` combinators, which build one kind of node from a strategy of sub-expressions.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable

from hypothesis import strategies as st

from segmentql.grammar import grammar_text
from segmentql.syntax import ast
from segmentql.syntax.formatter import CONTEXT_VARIABLES, RESERVED_WORDS

__all__ = [
    "accessors_of",
    "binaries_of",
    "collections_of",
    "comparisons_of",
    "conditionals_of",
    "criteria",
    "durations",
    "event_tests",
    "expressions",
    "identifiers",
    "leaves",
    "lets_of",
    "literals",
    "macros_of",
    "modifiers_of",
    "nested_expressions",
    "quantifiers_of",
    "scalar_literals",
    "tests_of",
    "unaries_of",
    "variables",
]

Strategy = st.SearchStrategy

#: Every keyword of the grammar (contextual or not) is kept out of generated names, so a
#: draw never depends on how the contextual lexer resolves a word.
_KEYWORDS = frozenset(
    w.lower() for w in re.findall(r'"([A-Za-z]+)"i', grammar_text())
) | frozenset({"e", "i", "m", "s"})

_NAME_POOL = ("plan", "tags", "score", "city", "item", "x", "orders", "landingPage", "n_2", "Tier")


def _usable(name: str) -> bool:
    low = name.lower()
    return low not in RESERVED_WORDS and low not in _KEYWORDS and low not in CONTEXT_VARIABLES


def identifiers() -> Strategy[str]:
    """Names usable bare: variables, attributes after `'s`, parameters, criteria paths."""
    generated = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
    return st.one_of(st.sampled_from(_NAME_POOL), generated).filter(_usable)


def variables() -> Strategy[ast.Variable]:
    """Context variables and plain names."""
    names = st.one_of(st.sampled_from(sorted(CONTEXT_VARIABLES)), identifiers())
    return st.builds(ast.Variable, names)


# --------------------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------------------

_INT64_MAX = 2**63 - 1


def _decimals() -> Strategy[decimal.Decimal]:
    """Non-negative, at most 28 significant digits, written with a point."""
    return st.builds(
        lambda whole, frac, scale: decimal.Decimal(f"{whole}.{frac:0{scale}d}"[: 28 + 1]),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(1, 6),
    ).filter(lambda d: len(d.as_tuple().digits) <= 28)


def _strings() -> Strategy[str]:
    # Any code point but lone surrogates: a double-quoted string holds the others as written.
    alphabet = st.characters(exclude_categories=["Cs"])
    special = st.sampled_from(['a"b', "a\\b", "x\ny\tz", "'"])
    return st.one_of(st.text(alphabet, max_size=12), special)


def _regexes() -> Strategy[ast.RegexLiteral]:
    atoms = st.sampled_from(["a", "b", "Z", "0", ".", "\\d", "\\w", "[a-z]", "/", " ", "é"])
    quantifiers = st.sampled_from(["", "", "*", "+", "?", "{2}"])
    pieces = st.lists(st.tuples(atoms, quantifiers).map("".join), min_size=1, max_size=4)
    patterns = st.tuples(st.sampled_from(["", "^"]), pieces.map("".join)).map("".join)
    flags = st.sets(st.sampled_from("ims")).map(lambda s: "".join(sorted(s)))
    return st.builds(ast.RegexLiteral, patterns, flags)


def durations() -> Strategy[ast.DurationLiteral]:
    """`2 hours`, `1.5 days`, `1 weekend day`: non-negative amounts, any unit."""
    amounts: Strategy[int | decimal.Decimal] = st.one_of(
        st.integers(0, 1000), st.decimals(min_value=0, max_value=100, places=1)
    )
    return st.builds(ast.DurationLiteral, amounts, st.sampled_from(list(ast.DurationUnit)))


def scalar_literals() -> Strategy[ast.Expr]:
    """Single-token literals (no sign, no collection)."""
    return st.one_of(
        st.just(ast.NullLiteral()),
        st.builds(ast.BooleanLiteral, st.booleans()),
        st.builds(ast.IntegerLiteral, st.integers(0, _INT64_MAX)),
        st.builds(ast.DecimalLiteral, _decimals()),
        st.builds(
            ast.FloatLiteral,
            st.floats(min_value=0, allow_nan=False, allow_infinity=False, allow_subnormal=False),
        ),
        st.builds(ast.StringLiteral, _strings()),
        _regexes(),
        durations(),
    )


def literals() -> Strategy[ast.Expr]:
    """What `is LITERAL` accepts: scalars, signed numbers, percentages, and list/map
    literals of literals (`ast.is_literal` holds for every draw)."""
    numbers = st.one_of(
        st.builds(ast.IntegerLiteral, st.integers(0, 1000)),
        st.builds(ast.DecimalLiteral, _decimals()),
    )
    signed = st.builds(ast.Unary, st.sampled_from([ast.UnaryOp.NEG, ast.UnaryOp.POS]), numbers)
    percent = st.builds(lambda n: ast.Unary(ast.UnaryOp.PERCENT, n), numbers)
    base = st.one_of(scalar_literals(), signed, percent)
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.builds(ast.ListLiteral, st.lists(inner, max_size=3).map(tuple)),
            st.builds(
                ast.MapLiteral,
                st.lists(st.builds(ast.MapEntry, inner, inner), max_size=3).map(tuple),
            ),
        ),
        max_leaves=4,
    )


# --------------------------------------------------------------------------------------
# Combinators: one kind of node from a strategy of children
# --------------------------------------------------------------------------------------


def binaries_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    return st.builds(ast.Binary, st.sampled_from(list(ast.BinaryOp)), children, children)


def unaries_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    return st.builds(ast.Unary, st.sampled_from(list(ast.UnaryOp)), children)


def comparisons_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    """`a < b` and chains of two, `a < b <= c`."""
    ops = st.sampled_from(list(ast.CompareOp))
    return st.integers(1, 2).flatmap(
        lambda n: st.builds(
            ast.Comparison,
            st.lists(children, min_size=n + 1, max_size=n + 1).map(tuple),
            st.lists(ops, min_size=n, max_size=n).map(tuple),
        )
    )


def conditionals_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    return st.builds(ast.Conditional, children, children, st.none() | children)


_ONE_ARG = [
    ast.TestOp.GREATER, ast.TestOp.GREATER_EQUAL, ast.TestOp.LESS, ast.TestOp.LESS_EQUAL,
    ast.TestOp.BEFORE, ast.TestOp.AFTER, ast.TestOp.AT_TIME, ast.TestOp.STARTS_WITH,
    ast.TestOp.ENDS_WITH, ast.TestOp.MATCHES, ast.TestOp.LIKE, ast.TestOp.CONTAINS,
    ast.TestOp.IN, ast.TestOp.CONTAINS_ALL, ast.TestOp.CONTAINS_EITHER, ast.TestOp.CONTAINS_NONE,
]  # fmt: skip


def tests_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    """Every natural-language test, with its arity, negation and (for equality) mode."""
    negated = st.booleans()
    user, session = ast.Variable("user"), ast.Variable("session")
    return st.one_of(
        st.builds(
            lambda s, a, n, m: ast.Test(ast.TestOp.EQUAL, s, (a,), n, m),
            children, children | literals(), negated,
            st.none() | st.sampled_from(list(ast.CompareMode)),
        ),
        st.builds(
            lambda op, s, a, n: ast.Test(op, s, (a,), n),
            st.sampled_from(_ONE_ARG), children, children, negated,
        ),
        st.builds(
            lambda s, a, b, n: ast.Test(ast.TestOp.BETWEEN, s, (a, b), n),
            children, children, children, negated,
        ),
        st.builds(
            lambda op, s, n: ast.Test(op, s, (), n),
            st.sampled_from([ast.TestOp.DEFINED, ast.TestOp.EMPTY]), children, negated,
        ),
        st.builds(
            lambda op, n: ast.Test(op, user, (), n),
            st.sampled_from(
                [ast.TestOp.ANONYMOUS, ast.TestOp.IDENTIFIED, ast.TestOp.RETURNING]
            ),
            negated,
        ),
        st.builds(lambda n: ast.Test(ast.TestOp.STARTING, session, (), n), negated),
    )  # fmt: skip


def _item_and_index() -> Strategy[tuple[str, str | None]]:
    """A quantifier's item name and optional index name, never the same name."""
    return st.tuples(identifiers(), st.none() | identifiers()).filter(
        lambda pair: pair[1] is None or pair[0].lower() != pair[1].lower()
    )


def quantifiers_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    """`every|some|no X in C [indexed by I] satisfies ...` and the counted forms."""
    simple = st.builds(
        lambda kind, names, coll, cond: ast.Quantifier(kind, names[0], coll, cond, names[1]),
        st.sampled_from([ast.QuantifierKind.EVERY, ast.QuantifierKind.SOME, ast.QuantifierKind.NO]),
        _item_and_index(), children, children,
    )  # fmt: skip
    counted = st.builds(
        lambda kind, n, distinct, names, coll, cond: ast.Quantifier(
            kind, names[0], coll, cond, names[1], ast.IntegerLiteral(n), distinct
        ),
        st.sampled_from(
            [ast.QuantifierKind.AT_LEAST, ast.QuantifierKind.AT_MOST, ast.QuantifierKind.EXACTLY]
        ),
        st.integers(0, 20), st.booleans(), _item_and_index(), children, children,
    )  # fmt: skip
    return simple | counted


def macros_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    return st.one_of(
        st.builds(ast.Macro, st.sampled_from(list(ast.MacroOp)), children),
        st.builds(ast.ThisPeriod, st.sampled_from(list(ast.Period))),
        st.builds(ast.UnitsBetween, st.sampled_from(list(ast.CountUnit)), children, children),
    )


def modifiers_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    """`as TYPE`, `at TIME`, `in STYLE case`, `rounded ...`, `without duplicates`, `sorted ...`."""
    times = st.one_of(
        st.builds(ast.StringLiteral, st.sampled_from(["12:00", "08:30:15"])),
        st.builds(ast.IntegerLiteral, st.integers(0, 23)),
    )
    scale = st.none() | st.builds(ast.IntegerLiteral, st.integers(0, 6))
    return st.one_of(
        st.builds(ast.Cast, children, st.sampled_from(list(ast.CastType))),
        st.builds(ast.AtTime, children, times),
        st.builds(ast.ChangeCase, children, st.sampled_from(list(ast.CaseStyle))),
        st.builds(ast.Round, children, st.sampled_from(list(ast.RoundingMode)), scale),
        st.builds(ast.WithoutDuplicates, children),
        st.builds(
            ast.Sort,
            children,
            st.sampled_from(list(ast.SortDirection)),
            st.sampled_from(list(ast.SortOrder)),
        ),
    )


def accessors_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    return st.one_of(
        st.builds(ast.Attribute, children, identifiers()),
        st.builds(ast.Index, children, children),
        st.builds(ast.Call, identifiers(), _arguments(children)),
    )


def _arguments(children: Strategy[ast.Expr]) -> Strategy[tuple[ast.Expr, ...]]:
    return st.lists(children | _lambdas(children), max_size=3).map(tuple)


def collections_of(children: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    return st.one_of(
        st.builds(ast.ListLiteral, st.lists(children, max_size=3).map(tuple)),
        st.builds(
            ast.MapLiteral,
            st.lists(st.builds(ast.MapEntry, children, children), max_size=3).map(tuple),
        ),
    )


# --------------------------------------------------------------------------------------
# Event expressions
# --------------------------------------------------------------------------------------


def criteria(values: Strategy[ast.Expr] | None = None) -> Strategy[ast.Criteria]:
    """One criterion or an `and`/`or` group of two or three, nested up to two levels (a
    nested group is written in parentheses, so it may have its parent's join).

    Values default to literals: after `and`/`or` the lexer reads a criterion only when the
    path is followed by an operator word or by something that starts a literal."""
    values = values if values is not None else literals()
    path = st.lists(identifiers(), min_size=1, max_size=2).map(tuple)
    single: Strategy[ast.Criteria] = st.builds(
        ast.Criterion, path, st.sampled_from(list(ast.CriterionOp)), values
    )

    joins = st.sampled_from(list(ast.CriteriaJoin))

    def group(depth: int) -> Strategy[ast.Criteria]:
        item = single if depth == 0 else single | group(depth - 1)
        items = st.lists(item, min_size=2, max_size=3).map(tuple)
        return st.builds(ast.CriteriaGroup, joins, items)

    return single | group(1)


def event_tests(values: Strategy[ast.Expr] | None = None) -> Strategy[ast.EventTest]:
    """`user has [not] <phrase> [argument] [with criteria] [count] [window]`."""
    values = values if values is not None else literals()
    strings = st.builds(ast.StringLiteral, st.sampled_from(["signup", "product-rated", "x y"]))
    topics = strings | st.builds(
        ast.ListLiteral, st.lists(strings, min_size=1, max_size=3).map(tuple)
    )
    count = st.none() | st.builds(
        ast.EventCount,
        st.sampled_from(list(ast.CountOp)),
        st.builds(ast.IntegerLiteral, st.integers(0, 10)),
    )
    windows = st.none() | st.one_of(
        st.builds(
            ast.EventWindow,
            st.sampled_from([k for k in ast.WindowKind if k is not ast.WindowKind.IN_LAST]),
        ),
        st.builds(ast.EventWindow, st.just(ast.WindowKind.IN_LAST), durations()),
    )
    crit = st.none() | criteria(values)

    def build(kind: ast.EventKind) -> Strategy[ast.EventTest]:
        argument: Strategy[ast.Expr | None] = st.none()
        determiner: Strategy[ast.TopicDeterminer | None] = st.none()
        if kind is ast.EventKind.INTEREST_SHOWN:
            argument = topics
            determiner = st.sampled_from(list(ast.TopicDeterminer))
        elif kind in (ast.EventKind.EVENT_OCCURRED, ast.EventKind.GOAL_COMPLETED):
            argument = strings
        elif kind is ast.EventKind.LINK_OPENED:  # `opened a link "croct.com"`
            argument = st.none() | st.builds(
                ast.StringLiteral, st.sampled_from(["croct.com", "https://a.example/b?c=1#d"]))
        return st.builds(
            ast.EventTest, st.just(kind), st.booleans(), argument, determiner, crit, count,
            windows,
        )  # fmt: skip

    return st.sampled_from(list(ast.EventKind)).flatmap(build)


# --------------------------------------------------------------------------------------
# Whole expressions
# --------------------------------------------------------------------------------------


def _lambdas(bodies: Strategy[ast.Expr]) -> Strategy[ast.Expr]:
    """`x => ...`, `(a, b) => ...`, `() => ...` with distinct parameter names."""
    params = st.lists(identifiers(), max_size=3, unique_by=str.lower).map(tuple)
    return st.builds(ast.Lambda, params, bodies)


def lets_of(
    bodies: Strategy[ast.Expr], values: Strategy[ast.Expr]
) -> Strategy[ast.Expr]:
    """`let a = ...; let f = (x, y) => ...; body`: 1-3 bindings, values or functions."""
    binding = st.builds(ast.Binding, identifiers(), values | _lambdas(values))
    return st.builds(ast.Let, st.lists(binding, min_size=1, max_size=3).map(tuple), bodies)


_COMBINATORS: tuple[Callable[[Strategy[ast.Expr]], Strategy[ast.Expr]], ...] = (
    binaries_of,
    unaries_of,
    comparisons_of,
    conditionals_of,
    tests_of,
    quantifiers_of,
    macros_of,
    modifiers_of,
    accessors_of,
    collections_of,
    lambda children: lets_of(children, children),  # a `let` in parentheses, anywhere
)


def leaves() -> Strategy[ast.Expr]:
    """Expressions without sub-expressions (event tests count as leaves)."""
    return st.one_of(scalar_literals(), variables(), event_tests(), st.builds(
        ast.ThisPeriod, st.sampled_from(list(ast.Period))
    ))  # fmt: skip


def nested_expressions(max_depth: int = 3) -> Strategy[ast.Expr]:
    """Expressions of every kind, at most `max_depth` nodes deep; a `let` or a function
    below the top is one the formatter must parenthesise."""
    if max_depth <= 0:
        return leaves()
    # `deferred` keeps each level's repr short (hypothesis prints strategies in reports).
    return st.deferred(lambda: _level(max_depth))


def _level(depth: int) -> Strategy[ast.Expr]:
    children = nested_expressions(depth - 1)
    return st.one_of(leaves(), *(combine(children) for combine in _COMBINATORS))


def expressions(max_depth: int = 3) -> Strategy[ast.Expr]:
    """Whole queries: any expression, sometimes under a `let` block."""
    inner = nested_expressions(max_depth)
    return inner | lets_of(inner, nested_expressions(max(0, max_depth - 1)))
