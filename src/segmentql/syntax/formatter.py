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

Precedence is an integer per node, loosest first, matching the grammar (spec section 2).
"""

from __future__ import annotations

import decimal
import enum
import math
import re
from collections.abc import Callable
from typing import Final

from segmentql.syntax import ast

__all__ = ["RESERVED_WORDS", "format_ast", "format_query", "is_identifier"]


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


#: Words that cannot be bare names (variables, attributes after `'s`, parameters). Kept in
#: step with the grammar's reserved words (`grammar/README.md`); compared case-insensitively.
RESERVED_WORDS: Final[frozenset[str]] = frozenset(
    (
        "let",
        "if",
        "else",
        "otherwise",
        "and",
        "or",
        "not",
        "is",
        "true",
        "false",
        "null",
        "mod",
        "modulo",
        "plus",
        "minus",
        "times",
        "divided",
        "by",
        "to",
        "power",
        "of",
        "as",
        "at",
        "in",
        "with",
        "has",
        "satisfies",
        "satisfy",
        "every",
        "some",
        "no",
        "any",
        "distinct",
        "indexed",
        "contains",
        "contain",
        "includes",
        "include",
        "does",
        "starts",
        "start",
        "ends",
        "end",
        "matches",
        "match",
        "like",
        "between",
        "before",
        "after",
        "equal",
        "greater",
        "less",
        "than",
        "defined",
        "known",
        "empty",
        "anonymous",
        "identified",
        "returning",
        "starting",
        "ignoring",
        "considering",
        "rounded",
        "sorted",
        "without",
        "duplicates",
        "case",
        "count",
        "sum",
        "minimum",
        "maximum",
        "average",
        "min",
        "max",
        "first",
        "last",
        "keys",
        "values",
        "number",
        "this",
        "the",
        "property",
        "either",
        "neither",
        "none",
        "all",
        "exactly",
        "least",
        "most",
    )
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_identifier(name: str) -> bool:
    """True when `name` can be written bare: an identifier that is not a reserved word."""
    return bool(_IDENTIFIER.match(name)) and name.lower() not in RESERVED_WORDS


def format_query(text: str) -> str:
    """Parse `text` and print it canonically; raises `QuerySyntaxError` on bad input."""
    from segmentql.syntax.parser import parse  # the parser is heavier; import on use

    return format_ast(parse(text))


def format_ast(node: ast.Expr) -> str:
    """Print an expression in the canonical natural style (see the module docstring)."""
    return _Printer().top(node)


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
    (
        "now",
        "today",
        "yesterday",
        "tomorrow",
        "user",
        "session",
        "device",
        "location",
        "cart",
        "campaign",
        "context",
        "page",
        "browser",
    )
)

_FIRST_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _criterion_safe(text: str) -> bool:
    """Whether `text`, after `and`/`or`, cannot be read as one more event criterion: a
    criterion starts with an event property name (or a parenthesised group of criteria)."""
    if text.startswith("("):
        return False
    word = _FIRST_WORD.match(text)
    if word is None:
        return True
    name = word.group().lower()
    return name in CONTEXT_VARIABLES or name in RESERVED_WORDS


# --------------------------------------------------------------------------------------
# The printer
# --------------------------------------------------------------------------------------


class _Printer:
    """Recursive printer. `slot` is the loosest level allowed without parentheses; `tail`
    says whether nothing follows the node before the enclosing delimiter (so a construct
    whose right end is open may stay bare)."""

    def __init__(self) -> None:
        self._table: dict[type[ast.Node], Callable[..., str]] = {
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

    # -- entry points -------------------------------------------------------------------

    def top(self, node: ast.Expr) -> str:
        if isinstance(node, ast.Let):
            return self._let(node, multiline=True)
        return self.expr(node, Level.LET, tail=True, statement=True)

    def expr(self, node: ast.Expr, slot: int, *, tail: bool, statement: bool = False) -> str:
        """Print `node` where only nodes binding at least as tightly as `slot` stay bare.

        `statement` marks the positions where a bare conditional reads well (top, `let`
        values and bodies, function bodies, the `else` of a conditional).
        """
        text, level, open_right = self._print(node, tail=tail)
        needs = level < slot or (open_right and not tail)
        if isinstance(node, ast.Conditional) and not statement:
            needs = True
        return f"({self._reprint_inside(node)})" if needs else text

    def _reprint_inside(self, node: ast.Expr) -> str:
        """Inside parentheses a node is at the top of its own little query."""
        if isinstance(node, ast.Let):
            return self._let(node, multiline=False)
        text, _, _ = self._print(node, tail=True)
        return text

    # -- dispatch -----------------------------------------------------------------------

    def _print(self, node: ast.Expr, *, tail: bool) -> tuple[str, int, bool]:
        """(text, level, right end open) of `node` printed bare."""
        simple = self._table.get(type(node))
        if simple is not None:
            return simple(node), Level.PRIMARY, False
        if isinstance(node, ast.Let):
            return self._let(node, multiline=False), Level.LET, True
        method: Callable[..., tuple[str, int, bool]] = getattr(
            self, "_" + type(node).__name__.lower(), self._unknown
        )
        return method(node, tail)

    def _unknown(self, node: ast.Expr, tail: bool) -> tuple[str, int, bool]:
        raise TypeError(f"format_ast: not an expression node: {type(node).__name__}")

    # -- collections --------------------------------------------------------------------

    def _element(self, node: ast.Expr) -> str:
        """An item of a list, map, or argument list: delimited by `,` `:` `]` `)`."""
        return self.expr(node, Level.CONDITIONAL, tail=True)

    def _listliteral(self, node: ast.ListLiteral, tail: bool) -> tuple[str, int, bool]:
        return "[" + ", ".join(self._element(i) for i in node.items) + "]", Level.PRIMARY, False

    def _mapliteral(self, node: ast.MapLiteral, tail: bool) -> tuple[str, int, bool]:
        if not node.entries:
            return "[:]", Level.PRIMARY, False
        entries = ", ".join(
            f"{self._element(e.key)}: {self._element(e.value)}" for e in node.entries
        )
        return f"[{entries}]", Level.PRIMARY, False

    # -- names, accessors, calls, functions -----------------------------------------------

    def _accessor_target(self, node: ast.Expr) -> str:
        text = self.expr(node, Level.ACCESSOR, tail=False)
        if isinstance(node, ast.DurationLiteral | ast.ThisPeriod):
            # Several words: `(2 days)'s ...` keeps the accessor off the unit word.
            return f"({text})"
        return text

    def _attribute(self, node: ast.Attribute, tail: bool) -> tuple[str, int, bool]:
        target = self._accessor_target(node.target)
        if not is_identifier(node.name):
            # Not writable after `'s`; the bracket form reads the same key.
            return f"{target}[{format_string(node.name)}]", Level.ACCESSOR, False
        owner = "'" if target.endswith("s") else "'s"
        return f"{target}{owner} {node.name}", Level.ACCESSOR, False

    def _index(self, node: ast.Index, tail: bool) -> tuple[str, int, bool]:
        target = self._accessor_target(node.target)
        if isinstance(node.target, ast.Attribute) and not target.startswith("("):
            # `user's tags[0]` would read `[0]` as part of the name after `'s`.
            target = f"({target})"
        index = self.expr(node.index, Level.CONDITIONAL, tail=True)
        return f"{target}[{index}]", Level.ACCESSOR, False

    def _call(self, node: ast.Call, tail: bool) -> tuple[str, int, bool]:
        args = ", ".join(self._call_argument(a) for a in node.args)
        return f"{node.function}({args})", Level.ACCESSOR, False

    def _call_argument(self, node: ast.Expr) -> str:
        if isinstance(node, ast.Lambda):
            return self.expr(node, Level.LAMBDA, tail=True, statement=True)
        return self._element(node)

    def _lambda(self, node: ast.Lambda, tail: bool) -> tuple[str, int, bool]:
        params = node.params[0] if len(node.params) == 1 else f"({', '.join(node.params)})"
        body = self.expr(node.body, Level.CONDITIONAL, tail=True, statement=True)
        return f"{params} => {body}", Level.LAMBDA, True

    def _let(self, node: ast.Let, *, multiline: bool) -> str:
        lines = [f"let {b.name} = {self._binding_value(b.value)};" for b in node.bindings]
        body = self.expr(node.body, Level.CONDITIONAL, tail=True, statement=True)
        return ("\n" if multiline else " ").join([*lines, body])

    def _binding_value(self, node: ast.Expr) -> str:
        if isinstance(node, ast.Lambda):
            text, _, _ = self._lambda(node, True)
            return text
        return self.expr(node, Level.CONDITIONAL, tail=True, statement=True)

    # -- operators ----------------------------------------------------------------------

    def _unary(self, node: ast.Unary, tail: bool) -> tuple[str, int, bool]:
        op = node.op
        if op is ast.UnaryOp.PERCENT:
            operand = self.expr(node.operand, Level.PERCENT, tail=False)
            return f"{operand}%", Level.PERCENT, False
        if op is ast.UnaryOp.NOT:
            operand = self.expr(node.operand, Level.NOT, tail=tail)
            return f"not {operand}", Level.NOT, self._open_right(node.operand, tail)
        operand = self.expr(node.operand, Level.UNARY, tail=tail)
        if isinstance(node.operand, ast.DurationLiteral):
            # `-2 days` is the literal with a negative amount; this is a negated literal.
            operand = f"({operand})"
        space = " " if operand.startswith(("-", "+")) else ""
        return f"{op.value}{space}{operand}", Level.UNARY, False

    def _open_right(self, node: ast.Expr, tail: bool) -> bool:
        """Whether `node`, printed bare at the end of its parent, leaves the parent open."""
        text, _, open_right = self._print(node, tail=tail)
        return open_right and not text.startswith("(")

    _BINARY_LEVELS: Final[dict[ast.BinaryOp, tuple[int, bool]]] = {
        # op: (level, right-associative)
        ast.BinaryOp.FALLBACK: (Level.FALLBACK, False),
        ast.BinaryOp.OR: (Level.OR, False),
        ast.BinaryOp.AND: (Level.AND, False),
        ast.BinaryOp.CONCAT: (Level.CONCAT, False),
        ast.BinaryOp.RANGE: (Level.RANGE, False),
        ast.BinaryOp.ADD: (Level.ADD, False),
        ast.BinaryOp.SUB: (Level.ADD, False),
        ast.BinaryOp.MUL: (Level.MUL, False),
        ast.BinaryOp.DIV: (Level.MUL, False),
        ast.BinaryOp.MOD: (Level.MUL, False),
        ast.BinaryOp.POW: (Level.POW, True),
    }

    def _binary(self, node: ast.Binary, tail: bool) -> tuple[str, int, bool]:
        level, right_assoc = self._BINARY_LEVELS[node.op]
        left_slot, right_slot = (level + 1, level) if right_assoc else (level, level + 1)
        right = self.expr(node.right, right_slot, tail=tail)
        # An event test ending in criteria may stay bare before `and`/`or` when the next
        # word cannot start a criterion (see `_criterion_safe`).
        left_tail = node.op in (ast.BinaryOp.AND, ast.BinaryOp.OR) and _criterion_safe(right)
        left = self.expr(
            node.left, left_slot, tail=left_tail and isinstance(node.left, ast.EventTest)
        )
        open_right = self._bare_open(node.right, right, tail)
        return f"{left} {node.op.value} {right}", level, open_right

    def _bare_open(self, node: ast.Expr, text: str, tail: bool) -> bool:
        return not text.startswith("(") and self._open_right(node, tail)

    def _comparison(self, node: ast.Comparison, tail: bool) -> tuple[str, int, bool]:
        parts = [self.expr(node.operands[0], Level.CONCAT, tail=False)]
        last = len(node.ops) - 1
        for i, (op, operand) in enumerate(zip(node.ops, node.operands[1:], strict=True)):
            parts += [op.value, self.expr(operand, Level.CONCAT, tail=tail and i == last)]
        return " ".join(parts), Level.TEST, False

    def _conditional(self, node: ast.Conditional, tail: bool) -> tuple[str, int, bool]:
        then = self.expr(node.then, Level.FALLBACK, tail=False)
        if node.otherwise is None:
            condition = self.expr(node.condition, Level.FALLBACK, tail=tail)
            return f"{then} if {condition}", Level.CONDITIONAL, True
        condition = self.expr(node.condition, Level.FALLBACK, tail=False)
        otherwise = self.expr(node.otherwise, Level.CONDITIONAL, tail=tail, statement=True)
        return f"{then} if {condition} else {otherwise}", Level.CONDITIONAL, True

    # -- tests --------------------------------------------------------------------------

    def _test(self, node: ast.Test, tail: bool) -> tuple[str, int, bool]:
        subject = self.expr(node.subject, Level.CONCAT, tail=False)
        words = _TEST_WORDS[node.op][1 if node.negated else 0]
        args = node.args
        if node.op is T.EQUAL and node.mode is None and args and ast.is_literal(args[0]):
            words = "is not" if node.negated else "is"
        has_mode = node.mode is not None
        arg_texts = [
            self.expr(a, Level.CONCAT, tail=tail and not has_mode and i == len(args) - 1)
            for i, a in enumerate(args)
        ]
        text = f"{subject} {words}"
        if node.op is T.BETWEEN and len(arg_texts) == 2:
            text += f" {arg_texts[0]} and {arg_texts[1]}"
        elif arg_texts:
            text += " " + ", ".join(arg_texts)
        if node.mode is not None:
            text += f" {node.mode.value}"
        return text, Level.TEST, False

    # -- quantifiers, macros, modifiers ---------------------------------------------------

    def _quantifier(self, node: ast.Quantifier, tail: bool) -> tuple[str, int, bool]:
        head = node.kind.value
        if node.count is not None:
            count = self.expr(node.count, Level.UNARY, tail=False)
            head += f" {count} of any"
        if node.distinct:
            head += " distinct"
        collection = self.expr(node.collection, Level.CONCAT, tail=False)
        text = f"{head} {node.item} in {collection}"
        if node.index is not None:
            text += f" indexed by {node.index}"
        condition = self.expr(node.condition, Level.CONDITIONAL, tail=True, statement=False)
        return f"{text} satisfies {condition}", Level.NOT, True

    def _macro(self, node: ast.Macro, tail: bool) -> tuple[str, int, bool]:
        operand = self.expr(node.operand, Level.UNARY, tail=tail)
        return f"{node.op.value} of {operand}", Level.UNARY, False

    def _unitsbetween(self, node: ast.UnitsBetween, tail: bool) -> tuple[str, int, bool]:
        start = self.expr(node.start, Level.CONCAT, tail=False)
        end = self.expr(node.end, Level.UNARY, tail=tail)
        return f"number of {node.unit.value} between {start} and {end}", Level.UNARY, False

    def _modifier_operand(self, node: ast.Expr) -> str:
        return self.expr(node, Level.MODIFIER, tail=False)

    def _cast(self, node: ast.Cast, tail: bool) -> tuple[str, int, bool]:
        return f"{self._modifier_operand(node.operand)} as {node.type.value}", Level.MODIFIER, False

    def _attime(self, node: ast.AtTime, tail: bool) -> tuple[str, int, bool]:
        time = self.expr(node.time, Level.ACCESSOR, tail=tail)
        return f"{self._modifier_operand(node.operand)} at {time}", Level.MODIFIER, False

    def _changecase(self, node: ast.ChangeCase, tail: bool) -> tuple[str, int, bool]:
        operand = self._modifier_operand(node.operand)
        return f"{operand} in {node.style.value} case", Level.MODIFIER, False

    def _round(self, node: ast.Round, tail: bool) -> tuple[str, int, bool]:
        text = f"{self._modifier_operand(node.operand)} rounded"
        if node.mode is not ast.RoundingMode.UP:
            text += f" {node.mode.value}"
        if node.scale is not None:
            text += f" with scale of {self.expr(node.scale, Level.ACCESSOR, tail=tail)}"
        return text, Level.MODIFIER, False

    def _withoutduplicates(self, node: ast.WithoutDuplicates, tail: bool) -> tuple[str, int, bool]:
        return f"{self._modifier_operand(node.operand)} without duplicates", Level.MODIFIER, False

    def _sort(self, node: ast.Sort, tail: bool) -> tuple[str, int, bool]:
        text = f"{self._modifier_operand(node.operand)} sorted"
        if node.direction is not ast.SortDirection.ASCENDING:
            text += f" {node.direction.value}"
        if node.order is not ast.SortOrder.NATURAL:
            text += f" {node.order.value}"
        return text, Level.MODIFIER, False

    # -- events -------------------------------------------------------------------------

    def _eventtest(self, node: ast.EventTest, tail: bool) -> tuple[str, int, bool]:
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
        # Criteria end where the next word is not a criterion; a following `and x ...`
        # could be read as one more criterion, so such an event test is closed with parens.
        open_right = node.criteria is not None and node.count is None and node.window is None
        return " ".join(parts), Level.TEST, open_right

    def _event_value(self, node: ast.Expr) -> str:
        return self.expr(node, Level.CONCAT, tail=False)

    def _criteria(self, node: ast.Criteria, *, nested: bool) -> str:
        if isinstance(node, ast.Criterion):
            path = ".".join(node.path)
            value = self._event_value(node.value)
            if node.op is ast.CriterionOp.EQUAL and ast.is_literal(node.value):
                return f"{path} {value}"
            return f"{path} {node.op.value} {value}"
        items = [self._criteria(i, nested=True) for i in node.items]
        text = f" {node.join.value} ".join(items)
        return f"({text})" if nested else text

    def _window(self, node: ast.EventWindow) -> str:
        if node.kind is ast.WindowKind.IN_LAST:
            if node.duration is None:
                raise ValueError("format_ast: an 'in the last' window needs a duration")
            return f"in the last {format_duration(node.duration)}"
        return node.kind.value
