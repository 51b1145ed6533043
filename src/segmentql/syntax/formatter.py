"""The canonical formatter: AST -> text in the natural style.

`format_ast(node)` prints one canonical spelling for every construct, and `format_query(text)`
is `format_ast(parse(text))`. The output re-parses to the same AST (`span` aside), and
formatting is idempotent. The canonical choices are listed in `docs/language.md`
("Canonical formatting"); the ones that matter for correctness are:

- Parentheses appear only where precedence requires them, plus two readability rules: a
  conditional nested anywhere but the `else` branch of another conditional (or the top of a
  query, a `let` value, a function body) is parenthesised, and so is a construct whose right
  end is open (quantifier, function, `let`, conditional) when something follows it.
- Natural words for logic and tests (`and`, `or`, `not`, `is greater than`, `contains`, ...),
  symbols for arithmetic, comparison chains, `&`, `..` and `??`.
- An event test that ends in criteria is parenthesised before `and`/`or` when the next words
  could be read as one more criterion (the lexer decides that by looking ahead, see
  `segmentql.syntax.lexer`).

Precedence is an integer per node, loosest first, matching `grammar/query.lark` (spec
section 2). Each node method returns its text, its level and how far its right end reaches
(`Open`); `expr` adds parentheses when the slot is tighter than the level or when what
follows (`Tail`) would be swallowed by an open right end.
"""

from __future__ import annotations

import decimal
import enum
import math
import re
from collections.abc import Callable
from typing import Any, Final

from segmentql.syntax import ast

__all__ = [
    "EVENT_PHRASES",
    "RESERVED_WORDS",
    "format_ast",
    "format_decimal",
    "format_duration",
    "format_float",
    "format_query",
    "format_regex",
    "format_string",
    "is_identifier",
]


class Level(enum.IntEnum):
    """Binding strength, loosest first. A child printed below its slot's level gets parens."""

    LET = 0
    LAMBDA = 0
    CONDITIONAL = 1
    FALLBACK = 2
    OR = 3
    AND = 4
    NOT = 5  # also quantifiers: `not every ...` is a `not` of a quantifier
    TEST = 6  # tests and comparisons, non-associative
    CONCAT = 7
    RANGE = 8
    ADD = 9
    MUL = 10
    POW = 11
    UNARY = 12  # prefix `-`, `+` and the prefix macros (`count of`, `sum of`, ...)
    PERCENT = 13
    MODIFIER = 14
    ACCESSOR = 15
    PRIMARY = 16


#: Words that cannot be bare names where an expression starts: they begin an expression
#: themselves (`every`, `let`, `the property`, ...) or are literals. Every other keyword of
#: the grammar is contextual and may name a variable; after `'s` or `.` any word is a name.
RESERVED_WORDS: Final[frozenset[str]] = frozenset(
    {"and", "at", "every", "exactly", "false", "let", "no", "not", "null", "or", "property",
     "some", "the", "this", "true"}
)  # fmt: skip

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(name: str) -> bool:
    """True when `name` can be written bare: an identifier that is not a reserved word."""
    return bool(_IDENTIFIER.match(name)) and name.lower() not in RESERVED_WORDS


def format_query(text: str) -> str:
    """Parse `text` and print it canonically; raises `QuerySyntaxError` on bad input."""
    from segmentql.syntax.parser import parse  # the parser is heavier; import on use

    return format_ast(parse(text))


def format_ast(node: ast.Expr) -> str:
    """Print an expression in the canonical natural style (see the module docstring).

    Raises `TypeError` for a node that is not an expression, `ValueError` for a value that has
    no literal form (an infinite float) or a tree too deep to print (parsed trees are at most
    64 levels deep, far below that)."""
    try:
        return _Printer().top(node)
    except RecursionError:
        raise ValueError("format_ast: the tree is nested too deeply to print") from None


# --------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------

_STRING_ESCAPES: Final[dict[str, str]] = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def format_string(value: str) -> str:
    """A double-quoted string literal with the minimal escapes (`\\\\ \\" \\n \\t`)."""
    return '"' + "".join(_STRING_ESCAPES.get(c, c) for c in value) + '"'


def format_regex(pattern: str, flags: str) -> str:
    """`~/pattern/flags`, with each unescaped `/` in the pattern written `\\/`."""
    out: list[str] = []
    escaped = False
    for c in pattern:
        if c == "/" and not escaped:
            out.append("\\/")
        else:
            out.append(c)
        escaped = c == "\\" and not escaped
    return "~/" + "".join(out) + "/" + "".join(sorted(flags))


def format_decimal(value: decimal.Decimal) -> str:
    """Plain notation with the scale kept (`19.90`); always with a point, so it stays a decimal."""
    text = format(value, "f")
    if "." not in text:
        text += ".0"
    return text


def format_float(value: float) -> str:
    """Scientific notation with the shortest digits that round-trip: `1e3`, `2.5e-4`, `1.5e0`."""
    if not math.isfinite(value):
        raise ValueError(f"the float {value!r} has no literal form")
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1 if text != "0" else 0
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return ("-" if sign else "") + f"{mantissa}e{power}"


def format_amount(amount: int | decimal.Decimal) -> str:
    """A duration amount: integers bare, decimals with their point."""
    if isinstance(amount, decimal.Decimal):
        return format_decimal(amount)
    return str(amount)


def format_duration(node: ast.DurationLiteral) -> str:
    """`1 day`, `-1 day`, `2 hours`, `1.5 days`, `3 weekend days`."""
    singular = isinstance(node.amount, int) and abs(node.amount) == 1
    unit = node.unit.value if singular else node.unit.value + "s"
    return f"{format_amount(node.amount)} {unit}"


# --------------------------------------------------------------------------------------
# Words for tests, events and criteria
# --------------------------------------------------------------------------------------

T = ast.TestOp

#: (positive, negative) words between subject and arguments.
_TEST_WORDS: Final[dict[ast.TestOp, tuple[str, str]]] = {
    T.EQUAL: ("is equal to", "is not equal to"),
    T.GREATER: ("is greater than", "is not greater than"),
    T.GREATER_EQUAL: ("is greater than or equal to", "is not greater than or equal to"),
    T.LESS: ("is less than", "is not less than"),
    T.LESS_EQUAL: ("is less than or equal to", "is not less than or equal to"),
    T.BETWEEN: ("is between", "is not between"),
    T.BEFORE: ("is before", "is not before"),
    T.AFTER: ("is after", "is not after"),
    T.AT_TIME: ("is at", "is not at"),
    T.STARTS_WITH: ("starts with", "does not start with"),
    T.ENDS_WITH: ("ends with", "does not end with"),
    T.MATCHES: ("matches", "does not match"),
    T.LIKE: ("is like", "is not like"),
    T.CONTAINS: ("contains", "does not contain"),
    T.IN: ("is in", "is not in"),
    T.CONTAINS_ALL: ("contains all of", "does not contain all of"),
    T.CONTAINS_EITHER: ("contains either", "does not contain either"),
    T.CONTAINS_NONE: ("contains none of", "does not contain none of"),
    T.DEFINED: ("is defined", "is not defined"),
    T.EMPTY: ("is empty", "is not empty"),
    T.ANONYMOUS: ("is anonymous", "is not anonymous"),
    T.IDENTIFIED: ("is identified", "is not identified"),
    T.RETURNING: ("is returning", "is not returning"),
    T.STARTING: ("is starting", "is not starting"),
}

E = ast.EventKind

#: The phrase after `user has [not]`; the argument (if any) follows it.
EVENT_PHRASES: Final[dict[ast.EventKind, str]] = {
    E.CART_ABANDONED: "abandoned a cart",
    E.PRODUCT_ABANDONED: "abandoned a product",
    E.PRODUCT_VIEWED: "viewed a product",
    E.ORDER_PLACED: "placed an order",
    E.PRODUCT_ORDERED: "ordered a product",
    E.CAMPAIGN_VIEWED: "viewed a campaign",
    E.PAGE_OPENED: "viewed a page",
    E.POST_VIEWED: "viewed a post",
    E.LINK_OPENED: "opened a link",
    E.INTEREST_SHOWN: "shown interest in",
    E.EVENT_OCCURRED: "experienced a custom event",
    E.GOAL_COMPLETED: "completed goal",
    E.USER_SIGNED_IN: "signed in",
    E.USER_SIGNED_UP: "signed up",
}

#: Phrases whose argument is required (the others take none).
EVENTS_WITH_ARGUMENT: Final[frozenset[ast.EventKind]] = frozenset(
    {E.INTEREST_SHOWN, E.EVENT_OCCURRED, E.GOAL_COMPLETED}
)


#: Names of the context variables: after `and`/`or` they end an event's criteria.
CONTEXT_VARIABLES: Final[frozenset[str]] = frozenset(
    {"now", "today", "yesterday", "tomorrow", "user", "session", "device", "location", "cart",
     "campaign", "context", "page", "browser"}
)  # fmt: skip


class Tail(enum.IntEnum):
    """What may follow a node before its enclosing delimiter. A node whose right end is open
    (`Open`) needs parentheses when its tail is smaller than its openness."""

    CLOSED = 0  # anything may follow (in particular `and`/`or` + a possible criterion)
    NO_CRITERION = 1  # what follows cannot continue an event's criteria
    END = 2  # nothing follows: the end of the query, a `)`, `]`, `,` or `;`


class Open(enum.IntEnum):
    """How far a construct's right end reaches."""

    NO = 0
    CRITERIA = 1  # an event test ending in criteria: `and url "x"` would join them
    ALL = 2  # quantifier, function, `let`, conditional: takes in what follows


class _Printed(str):
    """Printed text with the openness of its right end (for the parent's parenthesisation)."""

    open: Open

    def __new__(cls, text: str, open_: Open = Open.NO) -> _Printed:
        self = super().__new__(cls, text)
        self.open = open_
        return self


# --------------------------------------------------------------------------------------
# The printer
# --------------------------------------------------------------------------------------

_Result = tuple[str, int, Open]  # text, level, openness of its right end

_BINARY_LEVELS: Final[dict[ast.BinaryOp, tuple[int, int]]] = {
    # op: (level, associativity: -1 left, 0 none, 1 right)
    ast.BinaryOp.FALLBACK: (Level.FALLBACK, -1),
    ast.BinaryOp.OR: (Level.OR, -1),
    ast.BinaryOp.AND: (Level.AND, -1),
    ast.BinaryOp.CONCAT: (Level.CONCAT, -1),
    ast.BinaryOp.RANGE: (Level.RANGE, 0),
    ast.BinaryOp.ADD: (Level.ADD, -1),
    ast.BinaryOp.SUB: (Level.ADD, -1),
    ast.BinaryOp.MUL: (Level.MUL, -1),
    ast.BinaryOp.DIV: (Level.MUL, -1),
    ast.BinaryOp.MOD: (Level.MUL, -1),
    ast.BinaryOp.POW: (Level.POW, 1),
}

#: Characters after which `'s` is read as an accessor (see the grammar's POSS terminal).
_POSSESSIVE_AFTER = re.compile(r"[A-Za-z0-9_)\]]\Z")


class _Printer:
    """Recursive printer: `expr` prints a child in a slot that accepts `slot` and tighter
    levels, with `tail` saying what follows it; the `_<node>` methods print a node bare."""

    def top(self, node: ast.Expr) -> str:
        if isinstance(node, ast.Let):
            return self._let_text(node, multiline=True)
        return str(self.expr(node, Level.LET, Tail.END, statement=True))

    def expr(
        self, node: ast.Expr, slot: int, tail: Tail, *, statement: bool = False
    ) -> _Printed:
        text, level, open_ = self._print(node, tail)
        needs = level < slot or open_ > tail
        if isinstance(node, ast.Conditional) and not statement:
            needs = True
        if not needs:
            return _Printed(text, open_)
        if isinstance(node, ast.Let):
            return _Printed(f"({self._let_text(node, multiline=False)})")
        if open_ or tail is not Tail.END:
            text, _, _ = self._print(node, Tail.END)  # inside parentheses nothing follows
        return _Printed(f"({text})")

    def __init__(self) -> None:
        # A parenthesised child is printed again with `Tail.END`; remembering each
        # (node, tail) keeps that linear in the size of the tree instead of exponential.
        self._memo: dict[tuple[int, Tail], _Result] = {}

    def _print(self, node: ast.Expr, tail: Tail) -> _Result:
        key = (id(node), tail)
        result = self._memo.get(key)
        if result is None:
            result = self._memo[key] = self._print_uncached(node, tail)
        return result

    def _print_uncached(self, node: ast.Expr, tail: Tail) -> _Result:
        simple = _SIMPLE.get(type(node))
        if simple is not None:
            return simple(node), Level.PRIMARY, Open.NO
        method: Callable[[ast.Expr, Tail], _Result] | None = getattr(
            self, "_" + type(node).__name__.lower(), None
        )
        if method is None or isinstance(node, ast.Let):
            if isinstance(node, ast.Let):
                return self._let_text(node, multiline=False), Level.LET, Open.ALL
            raise TypeError(f"format_ast: not an expression node: {type(node).__name__}")
        return method(node, tail)

    # -- collections --------------------------------------------------------------------

    def _element(self, node: ast.Expr) -> str:
        """An item of a list, map, index or argument list (delimited by `,` `:` `]` `)`)."""
        return self.expr(node, Level.CONDITIONAL, Tail.END)

    def _listliteral(self, node: ast.ListLiteral, tail: Tail) -> _Result:
        return "[" + ", ".join(self._element(i) for i in node.items) + "]", Level.PRIMARY, Open.NO

    def _mapliteral(self, node: ast.MapLiteral, tail: Tail) -> _Result:
        if not node.entries:
            return "[:]", Level.PRIMARY, Open.NO
        entries = ", ".join(
            f"{self._element(e.key)}: {self._element(e.value)}" for e in node.entries
        )
        return f"[{entries}]", Level.PRIMARY, Open.NO

    # -- names, accessors, calls, functions -----------------------------------------------

    def _accessor_target(self, node: ast.Expr) -> str:
        text = self.expr(node, Level.ACCESSOR, Tail.CLOSED)
        several_words = isinstance(node, ast.DurationLiteral | ast.ThisPeriod)
        if several_words or isinstance(node, ast.RegexLiteral):
            # `(2 days)'s x` keeps the accessor off the unit word; `~/a/s' x` off the flags.
            return f"({text})"
        return text

    def _attribute(self, node: ast.Attribute, tail: Tail) -> _Result:
        target = self._accessor_target(node.target)
        if not _IDENTIFIER.match(node.name):
            # Not writable after `'s`; the bracket form reads the same key.
            return f"{target}[{format_string(node.name)}]", Level.ACCESSOR, Open.NO
        if not _POSSESSIVE_AFTER.search(target):
            target = f"({target})"
        owner = "'" if target.endswith("s") else "'s"
        return f"{target}{owner} {node.name}", Level.ACCESSOR, Open.NO

    def _index(self, node: ast.Index, tail: Tail) -> _Result:
        target = self._accessor_target(node.target)
        if isinstance(node.target, ast.Attribute) and not target.startswith("("):
            # The reference parenthesises a natural accessor before brackets.
            target = f"({target})"
        return f"{target}[{self._element(node.index)}]", Level.ACCESSOR, Open.NO

    def _call(self, node: ast.Call, tail: Tail) -> _Result:
        args = ", ".join(self._call_argument(a) for a in node.args)
        return f"{node.function}({args})", Level.ACCESSOR, Open.NO

    def _call_argument(self, node: ast.Expr) -> str:
        if isinstance(node, ast.Lambda):
            return self.expr(node, Level.LAMBDA, Tail.END, statement=True)
        return self._element(node)

    def _lambda(self, node: ast.Lambda, tail: Tail) -> _Result:
        params = node.params[0] if len(node.params) == 1 else f"({', '.join(node.params)})"
        body = self.expr(node.body, Level.CONDITIONAL, Tail.END, statement=True)
        return f"{params} => {body}", Level.LAMBDA, Open.ALL

    def _let_text(self, node: ast.Let, *, multiline: bool) -> str:
        lines = [f"let {b.name} = {self._binding_value(b.value)};" for b in node.bindings]
        body = self.expr(node.body, Level.CONDITIONAL, Tail.END, statement=True)
        return ("\n" if multiline else " ").join([*lines, body])

    def _binding_value(self, node: ast.Expr) -> str:
        if isinstance(node, ast.Lambda):
            text, _, _ = self._lambda(node, Tail.END)
            return text
        return self.expr(node, Level.CONDITIONAL, Tail.END, statement=True)

    # -- operators ----------------------------------------------------------------------

    def _unary(self, node: ast.Unary, tail: Tail) -> _Result:
        op = node.op
        if op is ast.UnaryOp.PERCENT:
            operand = self.expr(node.operand, Level.PERCENT, Tail.CLOSED)
            return f"{operand}%", Level.PERCENT, Open.NO
        if op is ast.UnaryOp.NOT:
            operand = self.expr(node.operand, Level.NOT, tail)
            return f"not {operand}", Level.NOT, operand.open
        operand = self.expr(node.operand, Level.UNARY, tail)
        if isinstance(node.operand, ast.DurationLiteral):
            # `-2 days` is the literal with a negative amount; this is a negated literal.
            operand = _Printed(f"({operand})")
        space = " " if operand.startswith(("-", "+")) else ""
        return f"{op.value}{space}{operand}", Level.UNARY, Open.NO

    def _binary(self, node: ast.Binary, tail: Tail) -> _Result:
        level, assoc = _BINARY_LEVELS[node.op]
        left_slot = level if assoc < 0 else level + 1
        right_slot = level if assoc > 0 else level + 1
        right = self.expr(node.right, right_slot, tail)
        left_tail = Tail.NO_CRITERION
        if node.op in (ast.BinaryOp.AND, ast.BinaryOp.OR) and not _cannot_be_criterion(
            node.right, right
        ):
            left_tail = Tail.CLOSED
        left = self.expr(node.left, left_slot, left_tail)
        return f"{left} {node.op.value} {right}", level, right.open

    def _comparison(self, node: ast.Comparison, tail: Tail) -> _Result:
        parts: list[str] = [self.expr(node.operands[0], Level.CONCAT, Tail.NO_CRITERION)]
        last = self.expr(node.operands[-1], Level.CONCAT, tail)
        for op, operand in zip(node.ops[:-1], node.operands[1:-1], strict=True):
            parts += [op.value, self.expr(operand, Level.CONCAT, Tail.NO_CRITERION)]
        parts += [node.ops[-1].value, last]
        return " ".join(parts), Level.TEST, last.open

    def _conditional(self, node: ast.Conditional, tail: Tail) -> _Result:
        then = self.expr(node.then, Level.FALLBACK, Tail.NO_CRITERION)
        if node.otherwise is None:
            condition = self.expr(node.condition, Level.FALLBACK, tail)
            return f"{then} if {condition}", Level.CONDITIONAL, Open.ALL
        condition = self.expr(node.condition, Level.FALLBACK, Tail.NO_CRITERION)
        otherwise = self.expr(node.otherwise, Level.CONDITIONAL, tail, statement=True)
        return f"{then} if {condition} else {otherwise}", Level.CONDITIONAL, Open.ALL

    # -- tests --------------------------------------------------------------------------

    def _test(self, node: ast.Test, tail: Tail) -> _Result:
        subject = self.expr(node.subject, Level.CONCAT, Tail.NO_CRITERION)
        words = _TEST_WORDS[node.op][1 if node.negated else 0]
        args = node.args
        if node.op is T.EQUAL and args and ast.is_literal(args[0]):
            words = "is not" if node.negated else "is"
        last_tail = tail if node.mode is None else Tail.NO_CRITERION
        printed = [
            self.expr(a, Level.CONCAT, last_tail if i == len(args) - 1 else Tail.NO_CRITERION)
            for i, a in enumerate(args)
        ]
        text = f"{subject} {words}"
        if node.op is T.BETWEEN and len(printed) == 2:
            text += f" {printed[0]} and {printed[1]}"
        elif printed:
            text += " " + ", ".join(printed)
        if node.mode is not None:
            text += f" {node.mode.value}"
        open_ = printed[-1].open if printed and node.mode is None else Open.NO
        return text, Level.TEST, open_

    # -- quantifiers, macros, modifiers ---------------------------------------------------

    def _quantifier(self, node: ast.Quantifier, tail: Tail) -> _Result:
        head = node.kind.value
        if node.count is not None:
            head += f" {self.expr(node.count, Level.UNARY, Tail.NO_CRITERION)} of any"
        if node.distinct:
            head += " distinct"
        collection = self.expr(node.collection, Level.CONCAT, Tail.NO_CRITERION)
        text = f"{head} {node.item} in {collection}"
        if node.index is not None:
            text += f" indexed by {node.index}"
        condition = self.expr(node.condition, Level.OR, Tail.END)
        return f"{text} satisfies {condition}", Level.NOT, Open.ALL

    def _macro(self, node: ast.Macro, tail: Tail) -> _Result:
        operand = self.expr(node.operand, Level.UNARY, tail)
        return f"{node.op.value} of {operand}", Level.UNARY, operand.open

    def _unitsbetween(self, node: ast.UnitsBetween, tail: Tail) -> _Result:
        start = self.expr(node.start, Level.UNARY, Tail.NO_CRITERION)
        end = self.expr(node.end, Level.UNARY, tail)
        text = f"number of {node.unit.value} between {start} and {end}"
        return text, Level.UNARY, end.open

    def _modifier_operand(self, node: ast.Expr) -> str:
        return self.expr(node, Level.MODIFIER, Tail.NO_CRITERION)

    def _cast(self, node: ast.Cast, tail: Tail) -> _Result:
        text = f"{self._modifier_operand(node.operand)} as {node.type.value}"
        return text, Level.MODIFIER, Open.NO

    def _attime(self, node: ast.AtTime, tail: Tail) -> _Result:
        time = self.expr(node.time, Level.ACCESSOR, Tail.CLOSED)
        return f"{self._modifier_operand(node.operand)} at {time}", Level.MODIFIER, Open.NO

    def _changecase(self, node: ast.ChangeCase, tail: Tail) -> _Result:
        operand = self._modifier_operand(node.operand)
        return f"{operand} in {node.style.value} case", Level.MODIFIER, Open.NO

    def _round(self, node: ast.Round, tail: Tail) -> _Result:
        text = f"{self._modifier_operand(node.operand)} rounded"
        if node.mode is not ast.RoundingMode.UP:
            text += f" {node.mode.value}"
        if node.scale is not None:
            text += f" with scale of {self.expr(node.scale, Level.ACCESSOR, Tail.CLOSED)}"
        return text, Level.MODIFIER, Open.NO

    def _withoutduplicates(self, node: ast.WithoutDuplicates, tail: Tail) -> _Result:
        return f"{self._modifier_operand(node.operand)} without duplicates", Level.MODIFIER, Open.NO

    def _sort(self, node: ast.Sort, tail: Tail) -> _Result:
        text = f"{self._modifier_operand(node.operand)} sorted"
        if node.direction is not ast.SortDirection.ASCENDING:
            text += f" {node.direction.value}"
        if node.order is not ast.SortOrder.NATURAL:
            text += f" {node.order.value}"
        return text, Level.MODIFIER, Open.NO

    # -- events -------------------------------------------------------------------------

    def _eventtest(self, node: ast.EventTest, tail: Tail) -> _Result:
        parts = ["user has"]
        if node.negated:
            parts.append("not")
        parts.append(EVENT_PHRASES[node.event])
        if node.determiner is not None and node.determiner is not ast.TopicDeterminer.ANY:
            parts.append(node.determiner.value)
        if node.argument is not None:
            parts.append(self._event_value(node.argument))
        if node.criteria is not None:
            parts += ["with", self._criteria(node.criteria, nested=False)]
        if node.count is not None:
            times = self._event_value(node.count.times)
            one = isinstance(node.count.times, ast.IntegerLiteral) and node.count.times.value == 1
            parts += [node.count.op.value, times, "time" if one else "times"]
        if node.window is not None:
            parts.append(self._window(node.window))
        ends_in_criteria = node.criteria is not None and node.count is None and node.window is None
        return " ".join(parts), Level.TEST, Open.CRITERIA if ends_in_criteria else Open.NO

    def _event_value(self, node: ast.Expr) -> str:
        """An event argument or criterion value: an accessor-level expression, optionally
        signed, optionally a percentage (the grammar's `event_value`)."""
        if isinstance(node, ast.Unary) and node.op is ast.UnaryOp.PERCENT:
            return self._event_signed(node.operand) + "%"
        return self._event_signed(node)

    def _event_signed(self, node: ast.Expr) -> str:
        signs = (ast.UnaryOp.NEG, ast.UnaryOp.POS)
        if isinstance(node, ast.Unary) and node.op in signs:
            return node.op.value + self._event_plain(node.operand)
        return self._event_plain(node)

    def _event_plain(self, node: ast.Expr) -> str:
        text = self.expr(node, Level.ACCESSOR, Tail.CLOSED)
        if isinstance(node, ast.ThisPeriod):
            return f"({text})"  # `this week` after a value would be the window
        return text

    def _criteria(self, node: ast.Criteria, *, nested: bool) -> str:
        if isinstance(node, ast.Criterion):
            path = _criterion_path(node.path)
            value = self._event_value(node.value)
            if node.op is ast.CriterionOp.EQUAL and ast.is_literal(node.value):
                return f"{path} {value}"
            return f"{path} {node.op.value} {value}"
        items = [
            # `and` binds tighter than `or`; any other nesting needs its parentheses (a
            # group holding a group with its own join is not the same as one flat group).
            self._criteria(
                i, nested=not (node.join is ast.CriteriaJoin.OR
                               and isinstance(i, ast.CriteriaGroup)
                               and i.join is ast.CriteriaJoin.AND),
            )
            for i in node.items
        ]
        text = f" {node.join.value} ".join(items)
        return f"({text})" if nested else text

    def _window(self, node: ast.EventWindow) -> str:
        if node.kind is ast.WindowKind.IN_LAST:
            if node.duration is None:
                raise ValueError("format_ast: an 'in the last' window needs a duration")
            return f"in the last {format_duration(node.duration)}"
        return node.kind.value


_SIMPLE: Final[dict[type[ast.Node], Callable[[Any], str]]] = {
    ast.NullLiteral: lambda n: "null",
    ast.BooleanLiteral: lambda n: "true" if n.value else "false",
    ast.IntegerLiteral: lambda n: str(n.value),
    ast.DecimalLiteral: lambda n: format_decimal(n.value),
    ast.FloatLiteral: lambda n: format_float(n.value),
    ast.StringLiteral: lambda n: format_string(n.value),
    ast.RegexLiteral: lambda n: format_regex(n.pattern, n.flags),
    ast.DurationLiteral: format_duration,
    ast.ThisPeriod: lambda n: f"this {n.period.value}",
    ast.Variable: lambda n: n.name,
}


#: Words after which `and`/`or` cannot continue an event's criteria: context variables and the
#: words that start an expression (mirrors the lexer's look-ahead; a test keeps them in step).
NOT_CRITERION_START: Final[frozenset[str]] = (
    CONTEXT_VARIABLES
    | RESERVED_WORDS
    | frozenset(
        {"count", "sum", "minimum", "min", "maximum", "max", "average", "first", "last", "keys",
         "values", "number", "if"}
    )
)  # fmt: skip


def _criterion_path(path: tuple[str, ...]) -> str:
    """`details.rating`; a path whose first name could not start a criterion after `and`
    (`cart.costs.packaging`) is written from its last name: `packaging of cart.costs`."""
    if len(path) > 1 and path[0].lower() in NOT_CRITERION_START:
        return f"{path[-1]} of {'.'.join(path[:-1])}"
    return ".".join(path)


def _cannot_be_criterion(node: ast.Expr, text: str) -> bool:
    """Whether `text` (the printed `node`), right after `and`/`or`, cannot be read as one
    more event criterion. A criterion starts with a property name that is not a context
    variable, or with a parenthesised group; the lexer decides by looking at the text."""
    if text.startswith("("):
        return False
    while True:
        if isinstance(node, ast.Variable):
            return node.name.lower() in CONTEXT_VARIABLES
        if isinstance(node, ast.Call):
            return False
        child = _leftmost_child(node)
        if child is None:
            return True  # a literal, a sign, or a construct that starts with a keyword
        node = child


def _leftmost_child(node: ast.Expr) -> ast.Expr | None:
    """The child printed first, when the node's text starts with it."""
    if isinstance(node, ast.Binary):
        return node.left
    if isinstance(node, ast.Comparison):
        return node.operands[0]
    if isinstance(node, ast.Test):
        return node.subject
    if isinstance(node, ast.Conditional):
        return node.then
    if isinstance(node, ast.Attribute | ast.Index):
        return node.target
    if isinstance(node, ast.Unary) and node.op is ast.UnaryOp.PERCENT:
        return node.operand
    if isinstance(
        node, ast.Cast | ast.AtTime | ast.ChangeCase | ast.Round | ast.WithoutDuplicates | ast.Sort
    ):
        return node.operand
    return None
