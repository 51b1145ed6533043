"""Grammar rules → AST nodes, applied by lark *during* the LALR parse (inline transformer).

Building nodes at each reduction means there is no lark tree and no recursive tree walk, so
a deeply nested query can never hit Python's recursion limit here. The grammar keeps every
token (`keep_all_tokens`), and each callback gets a flat list of tokens and already-built
values; spans come from the first and last of them.

Values that are not AST nodes (an operator, a mode, a property path...) travel as `Part`s,
which carry their span too.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from lark import Token, Transformer

from segmentql.diagnostics import Span
from segmentql.syntax import ast
from segmentql.syntax.lexer import (
    current_state,
    decode_double_quoted,
    decode_regex,
    decode_single_quoted,
)

INT64_MAX = 2**63 - 1
MAX_DECIMAL_DIGITS = 28

IS_LITERAL_MESSAGE = "'is' takes a literal here; use 'is equal to' to compare with an expression"


@dataclass(frozen=True, slots=True)
class Part:
    """A non-node value produced by a helper rule, with its span."""

    value: Any
    span: Span


@dataclass(frozen=True, slots=True)
class Parens:
    """Parenthesized criteria, kept apart so `(a and b) and c` is not flattened."""

    value: ast.Criteria
    span: Span


@dataclass(frozen=True, slots=True)
class Phrase:
    kind: ast.EventKind
    argument: ast.Expr | None
    determiner: ast.TopicDeterminer | None
    span: Span


Item = Any  # Token | ast.Node | Part | Parens | Phrase


# --------------------------------------------------------------------------------------
# Spans
# --------------------------------------------------------------------------------------


def span_of(children: Sequence[Item]) -> Span:
    # (`_start` and `_end` inlined: this runs for every node of every parse.)
    first = children[0]
    last = children[-1]
    if isinstance(first, Token):
        start, line, column = first.start_pos or 0, first.line or 1, first.column or 1
    else:
        span: Span = first.span
        start, line, column = span.start, span.line, span.column
    if isinstance(last, Token):
        return Span(start, last.end_pos or 0, line, column, last.end_line or 1,
                    last.end_column or 1)
    span = last.span
    return Span(start, span.end, line, column, span.end_line, span.end_column)


def token_span(token: Token) -> Span:
    return span_of((token,))


# --------------------------------------------------------------------------------------
# Small helpers over a children list
# --------------------------------------------------------------------------------------

def _nodes(children: Sequence[Item]) -> list[Any]:
    return [c for c in children if isinstance(c, ast.Node)]


def _tokens(children: Sequence[Item]) -> list[Token]:
    return [c for c in children if isinstance(c, Token)]


def _types(children: Sequence[Item]) -> set[str]:
    return {c.type for c in children if isinstance(c, Token)}


def _names(children: Sequence[Item]) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type == "NAME"]


def _part(children: Sequence[Item], kind: type) -> Any:
    for child in children:
        if isinstance(child, Part) and isinstance(child.value, kind):
            return child.value
    return None


def _words(children: Sequence[Item]) -> str:
    """The keyword tokens of a helper rule, lower-cased and joined by one space."""
    return " ".join(str(t).lower() for t in _tokens(children))


_LITERAL_PARTS = (*ast.LITERAL_TYPES, ast.ListLiteral, ast.MapLiteral, ast.MapEntry)


def _is_literal(node: ast.Node) -> bool:
    """`ast.is_literal`, but iterative (a list literal may be nested very deep)."""
    if isinstance(node, ast.LITERAL_TYPES):
        return True  # the usual `is "pro"`: no walk
    for sub in node.walk():
        if isinstance(sub, _LITERAL_PARTS):
            continue
        if isinstance(sub, ast.Unary):
            if sub.op is ast.UnaryOp.PERCENT:
                continue
            if sub.op in (ast.UnaryOp.NEG, ast.UnaryOp.POS) and isinstance(
                sub.operand, ast.IntegerLiteral | ast.DecimalLiteral | ast.FloatLiteral
            ):
                continue
        return False
    return True


_BINARY_WORDS = {
    "+": ast.BinaryOp.ADD, "plus": ast.BinaryOp.ADD,
    "-": ast.BinaryOp.SUB, "minus": ast.BinaryOp.SUB,
    "*": ast.BinaryOp.MUL, "times": ast.BinaryOp.MUL,
    "/": ast.BinaryOp.DIV, "divided by": ast.BinaryOp.DIV,
    "mod": ast.BinaryOp.MOD, "modulo": ast.BinaryOp.MOD,
    "**": ast.BinaryOp.POW, "to power of": ast.BinaryOp.POW,
    "to the power of": ast.BinaryOp.POW,
}
_MACROS = {
    "count": ast.MacroOp.COUNT, "sum": ast.MacroOp.SUM,
    "minimum": ast.MacroOp.MINIMUM, "min": ast.MacroOp.MINIMUM,
    "maximum": ast.MacroOp.MAXIMUM, "max": ast.MacroOp.MAXIMUM,
    "average": ast.MacroOp.AVERAGE, "first": ast.MacroOp.FIRST, "last": ast.MacroOp.LAST,
    "keys": ast.MacroOp.KEYS, "values": ast.MacroOp.VALUES,
}
_DURATION_UNITS = {
    **{u.value: u for u in ast.DurationUnit},
    **{u.value + "s": u for u in ast.DurationUnit},
}
_COUNT_UNITS = {
    **{u.value: u for u in ast.CountUnit},
    **{u.value[:-1]: u for u in ast.CountUnit},
    "weekend day": ast.CountUnit.WEEKEND_DAYS,
    "weekend days": ast.CountUnit.WEEKEND_DAYS,
}
_USER_STATES = {
    "anonymous": ast.TestOp.ANONYMOUS, "identified": ast.TestOp.IDENTIFIED,
    "returning": ast.TestOp.RETURNING, "starting": ast.TestOp.STARTING,
}
_EVENTS = {
    ("abandoned", "cart"): ast.EventKind.CART_ABANDONED,
    ("abandoned", "product"): ast.EventKind.PRODUCT_ABANDONED,
    ("viewed", "product"): ast.EventKind.PRODUCT_VIEWED,
    ("viewed", "campaign"): ast.EventKind.CAMPAIGN_VIEWED,
    ("viewed", "page"): ast.EventKind.PAGE_OPENED,
    ("viewed", "post"): ast.EventKind.POST_VIEWED,
    ("placed", "order"): ast.EventKind.ORDER_PLACED,
    ("ordered", "product"): ast.EventKind.PRODUCT_ORDERED,
    ("opened", "link"): ast.EventKind.LINK_OPENED,
    ("shown", "interest"): ast.EventKind.INTEREST_SHOWN,
    ("experienced", "event"): ast.EventKind.EVENT_OCCURRED,
    ("completed", "goal"): ast.EventKind.GOAL_COMPLETED,
    ("signed", "in"): ast.EventKind.USER_SIGNED_IN,
    ("signed", "up"): ast.EventKind.USER_SIGNED_UP,
}
_EVENT_NOUNS = frozenset(noun for _, noun in _EVENTS)
_DETERMINERS = {
    "all of": ast.TopicDeterminer.ALL_OF, "either": ast.TopicDeterminer.EITHER,
    "none of": ast.TopicDeterminer.NONE_OF, "neither": ast.TopicDeterminer.NEITHER,
}
_CRITERION_OPS = {
    "equal to": ast.CriterionOp.EQUAL,
    "greater than": ast.CriterionOp.GREATER,
    "greater than or equal": ast.CriterionOp.GREATER_EQUAL,
    "greater than or equal to": ast.CriterionOp.GREATER_EQUAL,
    "less than": ast.CriterionOp.LESS,
    "less than or equal": ast.CriterionOp.LESS_EQUAL,
    "less than or equal to": ast.CriterionOp.LESS_EQUAL,
    "starting with": ast.CriterionOp.STARTING,
    "ending with": ast.CriterionOp.ENDING,
    "like": ast.CriterionOp.LIKE,
    "in": ast.CriterionOp.IN,
    "containing": ast.CriterionOp.CONTAINING,
    "containing all of": ast.CriterionOp.CONTAINING_ALL,
    "containing none of": ast.CriterionOp.CONTAINING_NONE,
    "containing either": ast.CriterionOp.CONTAINING_EITHER,
    "containing neither": ast.CriterionOp.CONTAINING_NEITHER,
}
_WINDOWS = {w.value: w for w in ast.WindowKind}
#: Operator words that are never a variable, though the lexer may offer them as names.
_OPERATOR_WORDS = frozenset({"and", "or"})


def _fold_sign(op: ast.UnaryOp, sign: Token, operand: Any, span: Span) -> ast.Expr:
    """`-1 day` is a negative duration literal, but only when the sign is written right
    before the number (`-(1 day)` stays a negation)."""
    if isinstance(operand, ast.DurationLiteral):
        text = current_state().text
        between = text[(sign.end_pos or 0):operand.span.start]
        if not between.strip() and text[operand.span.start:operand.span.start + 1].isdigit():
            amount = -operand.amount if op is ast.UnaryOp.NEG else operand.amount
            return ast.DurationLiteral(amount, operand.unit, span=span)
    if (
        op is ast.UnaryOp.NEG
        and isinstance(operand, ast.IntegerLiteral)
        and operand.value == INT64_MAX + 1
    ):
        current_state().big_integers.pop(operand.span.start, None)
    return ast.Unary(op, operand, span=span)


class ToAst(Transformer[Token, Any]):
    """The inline transformer (see module docstring). One method per rule or alias."""

    # ---------------------------------------------------------------- structure
    def start(self, c: list[Item]) -> Any:
        return c[0]

    def let_block(self, c: list[Item]) -> ast.Let:
        bindings = tuple(x for x in c if isinstance(x, ast.Binding))
        return ast.Let(bindings, c[-1], span=span_of(c))

    def binding(self, c: list[Item]) -> ast.Binding:
        return ast.Binding(str(_names(c)[0]), c[3], span=span_of(c))

    def lambda_one(self, c: list[Item]) -> ast.Lambda:
        return ast.Lambda((str(c[0]),), c[-1], span=span_of(c))

    def lambda_none(self, c: list[Item]) -> ast.Lambda:
        return ast.Lambda((), c[-1], span=span_of(c))

    def lambda_paren(self, c: list[Item]) -> ast.Lambda:
        inner = c[1]
        if isinstance(inner, ast.Variable):
            params: tuple[str, ...] = (inner.name,)
        else:
            current_state().error(
                "Q101", inner.span, "a function's parameters must be names",
                help="write '(a, b) => ...', 'x => ...' or '() => ...'",
            )
            params = ()
        return ast.Lambda(params, c[-1], span=span_of(c))

    def lambda_many(self, c: list[Item]) -> ast.Lambda:
        names = _names(c)
        seen: set[str] = set()
        for name in names:
            key = str(name).lower()
            if key in seen:
                current_state().error(
                    "Q122", token_span(name), f"duplicate parameter name '{name}'"
                )
            seen.add(key)
        return ast.Lambda(tuple(str(n) for n in names), c[-1], span=span_of(c))

    def conditional(self, c: list[Item]) -> ast.Conditional:
        otherwise = c[4] if len(c) == 5 else None
        return ast.Conditional(c[0], c[2], otherwise, span=span_of(c))

    def fallback(self, c: list[Item]) -> ast.Binary:
        return ast.Binary(ast.BinaryOp.FALLBACK, c[0], c[2], span=span_of(c))

    def or_(self, c: list[Item]) -> ast.Binary:
        return ast.Binary(ast.BinaryOp.OR, c[0], c[2], span=span_of(c))

    def and_(self, c: list[Item]) -> ast.Binary:
        return ast.Binary(ast.BinaryOp.AND, c[0], c[2], span=span_of(c))

    def not_(self, c: list[Item]) -> ast.Unary:
        return ast.Unary(ast.UnaryOp.NOT, c[1], span=span_of(c))

    # ---------------------------------------------------------------- quantifiers
    def quantifier_simple(self, c: list[Item]) -> ast.Quantifier:
        kind = ast.QuantifierKind(str(c[0]).lower())
        names = _names(c)
        collection, condition = _nodes(c)
        return ast.Quantifier(
            kind, str(names[0]), collection, condition,
            index=str(names[1]) if len(names) > 1 else None, span=span_of(c),
        )

    def quantifier_count(self, c: list[Item]) -> ast.Quantifier:
        first = str(c[0]).lower()
        kind = (
            ast.QuantifierKind.EXACTLY if first == "exactly"
            else ast.QuantifierKind(f"at {str(c[1]).lower()}")
        )
        names = _names(c)
        count, collection, condition = _nodes(c)
        return ast.Quantifier(
            kind, str(names[0]), collection, condition,
            index=str(names[1]) if len(names) > 1 else None, count=count,
            distinct="DISTINCT" in _types(c), span=span_of(c),
        )

    # ---------------------------------------------------------------- comparisons
    def cmp_op(self, c: list[Item]) -> Part:
        return Part(ast.CompareOp(str(c[0])), span_of(c))

    def comparison(self, c: list[Item]) -> ast.Comparison:
        operands = tuple(_nodes(c))
        ops = [x for x in c if isinstance(x, Part)]
        if len(ops) > 2:
            third = ops[2]
            current_state().error(
                "Q107", Span(third.span.start, c[-1].span.end, third.span.line,
                             third.span.column, c[-1].span.end_line, c[-1].span.end_column),
                "a comparison chain takes at most two operators",
                help="join the comparisons with 'and': 'a < b and b < c and c < d'",
            )
        return ast.Comparison(operands, tuple(p.value for p in ops), span=span_of(c))

    def is_comparison(self, c: list[Item]) -> ast.Comparison:
        op: Part = c[2]
        return ast.Comparison((c[0], c[3]), (op.value,), span=span_of(c))

    # ---------------------------------------------------------------- tests
    def _test(self, c: list[Item], op: ast.TestOp, *, mode: bool = False) -> ast.Test:
        nodes = _nodes(c)
        types = _types(c)
        return ast.Test(
            op, nodes[0], tuple(nodes[1:]), negated="NOT" in types,
            mode=_part(c, ast.CompareMode) if mode else None, span=span_of(c),
        )

    def is_value(self, c: list[Item]) -> ast.Test:
        test = self._test(c, ast.TestOp.EQUAL, mode=True)
        value = test.args[0]
        if not _is_literal(value):
            current_state().error(
                "Q106", value.span, IS_LITERAL_MESSAGE,
                help="write 'is equal to' before an expression, or compare with '=='",
            )
        return test

    def is_equal(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.EQUAL, mode=True)

    def is_greater(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.GREATER)

    def is_greater_equal(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.GREATER_EQUAL)

    def is_less(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.LESS)

    def is_less_equal(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.LESS_EQUAL)

    def is_between(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.BETWEEN)

    def is_before(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.BEFORE)

    def is_after(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.AFTER)

    def is_at_time(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.AT_TIME)

    def is_like(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.LIKE)

    def is_in(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.IN)

    def is_defined(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.DEFINED)

    def is_empty(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.EMPTY)

    def is_user_state(self, c: list[Item]) -> ast.Test:
        return self._test(c, _part(c, ast.TestOp))

    def user_state(self, c: list[Item]) -> Part:
        return Part(_USER_STATES[str(c[0]).lower()], span_of(c))

    def compare_mode(self, c: list[Item]) -> Part:
        return Part(ast.CompareMode(_words(c)), span_of(c))

    def starts_with(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.STARTS_WITH)

    def ends_with(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.ENDS_WITH)

    def matches(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.MATCHES)

    def contains(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.CONTAINS)

    def contains_all(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.CONTAINS_ALL)

    def contains_either(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.CONTAINS_EITHER)

    def contains_none(self, c: list[Item]) -> ast.Test:
        return self._test(c, ast.TestOp.CONTAINS_NONE)

    # ---------------------------------------------------------------- events
    def event_test(self, c: list[Item]) -> ast.EventTest:
        subject = c[0]
        if not (isinstance(subject, ast.Variable) and subject.name.lower() == "user"):
            current_state().error(
                "Q116", subject.span, "event expressions are about the user: write 'user has ...'"
            )
        phrase = next(x for x in c if isinstance(x, Phrase))
        criteria = next((x.value for x in c if isinstance(x, Part)), None)
        count = next((x for x in c if isinstance(x, ast.EventCount)), None)
        window = next((x for x in c if isinstance(x, ast.EventWindow)), None)
        negated = any(isinstance(x, Token) and x.type == "NOT" for x in c[:3])
        return ast.EventTest(
            phrase.kind, negated=negated, argument=phrase.argument,
            determiner=phrase.determiner, criteria=criteria, count=count, window=window,
            span=span_of(c),
        )

    def event_phrase(self, c: list[Item]) -> Phrase:
        words = [str(t).lower() for t in _tokens(c)]
        verb = words[0]
        noun = next(w for w in words[1:] if w in _EVENT_NOUNS)
        nodes = _nodes(c)
        determiner = _part(c, ast.TopicDeterminer)
        if verb == "shown" and determiner is None:
            determiner = ast.TopicDeterminer.ANY
        return Phrase(
            _EVENTS[(verb, noun)], nodes[0] if nodes else None, determiner, span_of(c)
        )

    def topic_determiner(self, c: list[Item]) -> Part:
        return Part(_DETERMINERS[_words(c)], span_of(c))

    def event_criteria(self, c: list[Item]) -> Part:
        return Part(_unparen(c[1]), span_of(c))

    def criteria_or(self, c: list[Item]) -> ast.CriteriaGroup:
        return _group(ast.CriteriaJoin.OR, c)

    def criteria_and(self, c: list[Item]) -> ast.CriteriaGroup:
        return _group(ast.CriteriaJoin.AND, c)

    def criteria_paren(self, c: list[Item]) -> Parens:
        return Parens(_unparen(c[1]), span_of(c))

    def criterion(self, c: list[Item]) -> ast.Criterion:
        path: Part = c[0]
        op = _part(c, ast.CriterionOp) or ast.CriterionOp.EQUAL
        return ast.Criterion(path.value, op, c[-1], span=span_of(c))

    def criterion_path(self, c: list[Item]) -> Part:
        return c[0]  # type: ignore[no-any-return]

    def path_chain(self, c: list[Item]) -> Part:
        if len(c) == 1:
            return Part((str(c[0]),), span_of(c))
        head: Part = c[0]
        return Part((*head.value, str(c[2])), span_of(c))

    def path_of(self, c: list[Item]) -> Part:
        owner: Part = c[-1]
        return Part((*owner.value, str(_names(c)[0])), span_of(c))

    def criterion_op(self, c: list[Item]) -> Part:
        return Part(_CRITERION_OPS[_words(c)], span_of(c))

    def event_count(self, c: list[Item]) -> ast.EventCount:
        words = [str(t).lower() for t in _tokens(c) if t.type != "INT"]
        number = next(t for t in _tokens(c) if t.type == "INT")
        times = self.integer([number])
        op = ast.CountOp(" ".join(words[:-1])) if len(words) > 1 else ast.CountOp.EXACTLY
        return ast.EventCount(op, times, span=span_of(c))

    def event_window(self, c: list[Item]) -> ast.EventWindow:
        durations = _nodes(c)
        if durations:
            return ast.EventWindow(ast.WindowKind.IN_LAST, durations[0], span=span_of(c))
        return ast.EventWindow(_WINDOWS[_words(c)], span=span_of(c))

    # ---------------------------------------------------------------- operators
    def concat(self, c: list[Item]) -> ast.Binary:
        return ast.Binary(ast.BinaryOp.CONCAT, c[0], c[2], span=span_of(c))

    def range(self, c: list[Item]) -> ast.Binary:
        return ast.Binary(ast.BinaryOp.RANGE, c[0], c[2], span=span_of(c))

    def binary(self, c: list[Item]) -> ast.Binary:
        op: Part = c[1]
        return ast.Binary(op.value, c[0], c[2], span=span_of(c))

    def add_op(self, c: list[Item]) -> Part:
        return Part(_BINARY_WORDS[_words(c)], span_of(c))

    mul_op = add_op
    pow_op = add_op

    def negative(self, c: list[Item]) -> ast.Expr:
        return _fold_sign(ast.UnaryOp.NEG, c[0], c[1], span_of(c))

    def positive(self, c: list[Item]) -> ast.Expr:
        return _fold_sign(ast.UnaryOp.POS, c[0], c[1], span_of(c))

    def percent(self, c: list[Item]) -> ast.Unary:
        return ast.Unary(ast.UnaryOp.PERCENT, c[0], span=span_of(c))

    def macro(self, c: list[Item]) -> ast.Macro:
        word = next(t for t in _tokens(c) if t.type == "MACRO_OF").split()[0].lower()
        return ast.Macro(_MACROS[word], c[-1], span=span_of(c))

    def units_between(self, c: list[Item]) -> ast.UnitsBetween:
        unit: Part = next(x for x in c if isinstance(x, Part))
        start, end = _nodes(c)
        return ast.UnitsBetween(unit.value, start, end, span=span_of(c))

    def count_unit(self, c: list[Item]) -> Part:
        words = _words(c)
        unit = _COUNT_UNITS.get(words)
        if unit is None:
            current_state().error(
                "Q120", span_of(c), f"cannot count {words} between two dates",
                help="count years, months, weeks, weekdays, weekend days, days, hours, "
                "minutes, seconds or milliseconds",
            )
            unit = ast.CountUnit.MILLISECONDS
        return Part(unit, span_of(c))

    # ---------------------------------------------------------------- modifiers
    def cast(self, c: list[Item]) -> ast.Cast:
        return ast.Cast(c[0], _part(c, ast.CastType), span=span_of(c))

    def cast_type(self, c: list[Item]) -> Part:
        return Part(ast.CastType(_words(c)), span_of(c))

    def at_time(self, c: list[Item]) -> ast.AtTime:
        return ast.AtTime(c[0], c[2], span=span_of(c))

    def change_case(self, c: list[Item]) -> ast.ChangeCase:
        return ast.ChangeCase(c[0], _part(c, ast.CaseStyle), span=span_of(c))

    def case_style(self, c: list[Item]) -> Part:
        return Part(ast.CaseStyle(_words(c)), span_of(c))

    def round(self, c: list[Item]) -> ast.Round:
        nodes = _nodes(c)
        mode = _part(c, ast.RoundingMode) or ast.RoundingMode.UP
        return ast.Round(nodes[0], mode, nodes[1] if len(nodes) > 1 else None, span=span_of(c))

    def rounding_mode(self, c: list[Item]) -> Part:
        return Part(ast.RoundingMode(_words(c)), span_of(c))

    def without_duplicates(self, c: list[Item]) -> ast.WithoutDuplicates:
        return ast.WithoutDuplicates(c[0], span=span_of(c))

    def sort(self, c: list[Item]) -> ast.Sort:
        return ast.Sort(
            c[0],
            _part(c, ast.SortDirection) or ast.SortDirection.ASCENDING,
            _part(c, ast.SortOrder) or ast.SortOrder.NATURAL,
            span=span_of(c),
        )

    def sort_direction(self, c: list[Item]) -> Part:
        return Part(ast.SortDirection(_words(c)), span_of(c))

    def sort_order(self, c: list[Item]) -> Part:
        return Part(ast.SortOrder(_words(c)), span_of(c))

    # ---------------------------------------------------------------- accessors, primaries
    def property_of(self, c: list[Item]) -> ast.Attribute:
        return ast.Attribute(c[-1], str(_names(c)[0]), span=span_of(c))

    def attribute(self, c: list[Item]) -> ast.Attribute:
        return ast.Attribute(c[0], str(c[2]), span=span_of(c))

    def index(self, c: list[Item]) -> ast.Index:
        return ast.Index(c[0], c[2], span=span_of(c))

    def variable(self, c: list[Item]) -> ast.Variable:
        name = str(c[0])
        span = span_of(c)
        if name.lower() in _OPERATOR_WORDS:
            # `x or or y`: the contextual lexer reads the second `or` as a name, which would
            # surface later as "unknown variable `or`"; say what the user got wrong instead.
            current_state().error(
                "Q114", span, f"expected a value, found the operator '{name}'",
                help=f"write a value where '{name}' is, or remove the repeated operator",
            )
        return ast.Variable(name, span=span)

    def call(self, c: list[Item]) -> ast.Call:
        return ast.Call(str(c[0]), tuple(_nodes(c)), span=span_of(c))

    def paren(self, c: list[Item]) -> Any:
        return replace(c[1], span=span_of(c))

    def list_literal(self, c: list[Item]) -> ast.ListLiteral:
        return ast.ListLiteral(tuple(_nodes(c)), span=span_of(c))

    def map_literal(self, c: list[Item]) -> ast.MapLiteral:
        entries = tuple(x for x in c if isinstance(x, ast.MapEntry))
        return ast.MapLiteral(entries, span=span_of(c))

    def map_entry(self, c: list[Item]) -> ast.MapEntry:
        return ast.MapEntry(c[0], c[2], span=span_of(c))

    def this_period(self, c: list[Item]) -> ast.ThisPeriod:
        return ast.ThisPeriod(ast.Period(str(c[1]).lower()), span=span_of(c))

    # ---------------------------------------------------------------- literals
    def null(self, c: list[Item]) -> ast.NullLiteral:
        return ast.NullLiteral(span=span_of(c))

    def true(self, c: list[Item]) -> ast.BooleanLiteral:
        return ast.BooleanLiteral(True, span=span_of(c))

    def false(self, c: list[Item]) -> ast.BooleanLiteral:
        return ast.BooleanLiteral(False, span=span_of(c))

    def integer(self, c: list[Item]) -> ast.IntegerLiteral:
        token: Token = c[0]
        value = int(str(token))
        span = token_span(token)
        if value > INT64_MAX:
            current_state().big_integers[span.start] = span
        return ast.IntegerLiteral(value, span=span)

    def decimal(self, c: list[Item]) -> ast.DecimalLiteral:
        token: Token = c[0]
        return ast.DecimalLiteral(_decimal(token), span=token_span(token))

    def float(self, c: list[Item]) -> ast.FloatLiteral:
        token: Token = c[0]
        value = float(str(token))
        if value in (float("inf"), float("-inf")):
            current_state().error(
                "Q123", token_span(token), f"float literal {token} is out of range",
                help="the largest float is about 1.8e308",
            )
        return ast.FloatLiteral(value, span=token_span(token))

    def string(self, c: list[Item]) -> ast.StringLiteral:
        token: Token = c[0]
        if token.type == "DQ_STRING":
            value = decode_double_quoted(token, current_state())
        else:
            value = decode_single_quoted(token)
        return ast.StringLiteral(value, span=token_span(token))

    def regex(self, c: list[Item]) -> ast.RegexLiteral:
        token: Token = c[0]
        pattern, flags = decode_regex(token, current_state())
        return ast.RegexLiteral(pattern, flags, span=token_span(token))

    def duration(self, c: list[Item]) -> ast.DurationLiteral:
        number: Token = c[0]
        unit: Part = c[1]
        amount: int | decimal.Decimal = (
            int(str(number)) if number.type == "INT" else _decimal(number)
        )
        return ast.DurationLiteral(amount, unit.value, span=span_of(c))

    def duration_unit(self, c: list[Item]) -> Part:
        return Part(_DURATION_UNITS[_words(c)], span_of(c))


def _decimal(token: Token) -> decimal.Decimal:
    value = decimal.Decimal(str(token))
    digits = len(value.as_tuple().digits)
    if digits > MAX_DECIMAL_DIGITS:
        current_state().error(
            "Q109", token_span(token),
            f"decimal literal has {digits} significant digits; at most {MAX_DECIMAL_DIGITS}"
            " are allowed",
            help="use fewer digits, or a float with an exponent (1.5e0) for an approximate "
            "number",
        )
    return value


def _unparen(value: Any) -> ast.Criteria:
    return value.value if isinstance(value, Parens) else value


def _group(join: ast.CriteriaJoin, c: list[Item]) -> ast.CriteriaGroup:
    left, right = c[0], c[2]
    if isinstance(left, ast.CriteriaGroup) and left.join is join:
        items = (*left.items, _unparen(right))
    else:
        items = (_unparen(left), _unparen(right))
    return ast.CriteriaGroup(join, items, span=span_of(c))

