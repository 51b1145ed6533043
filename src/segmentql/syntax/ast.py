"""The query AST: frozen dataclasses, one per construct; no lark types.

Conventions:
- Every node has a `span` (half-open code-point range, with line/column) that is
  **excluded from equality and hashing**, so `parse(format(q)) == parse(q)` compares structure.
- Surface spelling is not kept: `user.plan`, `user's plan` and `property plan of user` are all
  `Attribute(Variable("user"), "plan")`; `&&` and `and` are both `Binary(AND, ...)`;
  `is "x"` and `is equal to "x"` are both `Test(EQUAL, ...)`. The formatter prints one canon.
- Names (variables, attributes, parameters) keep the case the user wrote; the checker and the
  evaluator compare them case-insensitively. Keywords are normalised by the parser.
- Enumerations are `StrEnum`s whose values are the canonical words, so the formatter and the
  JSON form can print them directly.
"""

from __future__ import annotations

import decimal
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import TypeAlias

from segmentql.diagnostics import NO_SPAN, Span

# --------------------------------------------------------------------------------------
# Base
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False, kw_only=True)

    def children(self) -> Iterator[Node]:
        """Direct child nodes, in source order."""
        for f in fields(self):
            if f.name == "span":
                continue
            yield from _nodes_in(getattr(self, f.name))

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, pre-order (iterative: deep trees are fine)."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


# --------------------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NullLiteral(Node):
    pass


@dataclass(frozen=True, slots=True)
class BooleanLiteral(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class IntegerLiteral(Node):
    """A signed 64-bit integer written without a point: `42`. Sign is a `Unary(NEG)`."""

    value: int


@dataclass(frozen=True, slots=True)
class DecimalLiteral(Node):
    """An exact decimal written with a point and no exponent: `0.1`, `19.90` (scale kept)."""

    value: decimal.Decimal


@dataclass(frozen=True, slots=True)
class FloatLiteral(Node):
    """An approximate number written with an exponent: `1e3`, `2.5E-4`."""

    value: float


@dataclass(frozen=True, slots=True)
class StringLiteral(Node):
    """A string, escapes already processed; quote style is not kept."""

    value: str


@dataclass(frozen=True, slots=True)
class RegexLiteral(Node):
    """`~/pattern/flags`; `flags` is a sorted string of `i`, `m`, `s`."""

    pattern: str
    flags: str = ""


class DurationUnit(enum.StrEnum):
    YEAR = "year"
    MONTH = "month"
    WEEK = "week"
    WEEKDAY = "weekday"
    WEEKEND_DAY = "weekend day"
    DAY = "day"
    HOUR = "hour"
    MINUTE = "minute"
    SECOND = "second"
    MILLISECOND = "millisecond"
    MICROSECOND = "microsecond"
    NANOSECOND = "nanosecond"


@dataclass(frozen=True, slots=True)
class DurationLiteral(Node):
    """`2 hours`, `-1 day`, `1.5 days`: amount (sign included) and singular unit."""

    amount: int | decimal.Decimal
    unit: DurationUnit


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MapEntry(Node):
    key: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class MapLiteral(Node):
    """`["code": "active", "n": 1]`; `[:]` is the empty map."""

    entries: tuple[MapEntry, ...]


# --------------------------------------------------------------------------------------
# Names, accessors, calls, functions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """A name: context variables (`user`, `session`, `now`, `today`, ...), `let` bindings,
    quantifier items and indexes, function parameters."""

    name: str


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    """`target's name`, `target' name`, `property name of target`, `target.name`."""

    target: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Index(Node):
    """`target[index]`: a string key or an integer index (negative counts from the end)."""

    target: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Call(Node):
    """`name(arg, ...)`: a `let`-bound arrow function or a registered host function."""

    function: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    """`(a, b) => body`, `x => body`, `() => body`."""

    params: tuple[str, ...]
    body: Expr


@dataclass(frozen=True, slots=True)
class Binding(Node):
    name: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Let(Node):
    """`let a = 1; let f = x => x * 2; body`: bindings in order, each sees the ones before."""

    bindings: tuple[Binding, ...]
    body: Expr


# --------------------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------------------


class UnaryOp(enum.StrEnum):
    NOT = "not"
    NEG = "-"
    POS = "+"
    PERCENT = "%"  # postfix: `20%` is 0.20


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: UnaryOp
    operand: Expr


class BinaryOp(enum.StrEnum):
    OR = "or"
    AND = "and"
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "mod"
    POW = "**"
    CONCAT = "&"
    RANGE = ".."
    FALLBACK = "??"


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: BinaryOp
    left: Expr
    right: Expr


class CompareOp(enum.StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    """`a < b` or a chain of two, `1 < x <= 3` (operands = 3, ops = 2). Also `x is <= 1`."""

    operands: tuple[Expr, ...]
    ops: tuple[CompareOp, ...]


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`then if condition else otherwise`; without `else`, `otherwise` is None (null)."""

    then: Expr
    condition: Expr
    otherwise: Expr | None


# --------------------------------------------------------------------------------------
# Tests (natural-language predicates). One node; `op` says which test.
# --------------------------------------------------------------------------------------


class TestOp(enum.StrEnum):
    __test__ = False  # not a pytest class

    EQUAL = "equal"  # `is LIT`, `is equal to X`; args = (X,)
    GREATER = "greater"  # `is greater than X`
    GREATER_EQUAL = "greater_equal"  # `is greater than or equal to X`, `is at least X`
    LESS = "less"
    LESS_EQUAL = "less_equal"  # `is less than or equal to X`, `is at most X`
    BETWEEN = "between"  # `is between A and B`; args = (A, B), inclusive
    BEFORE = "before"  # `[is] before X`
    AFTER = "after"  # `[is] after X`
    AT_TIME = "at_time"  # `is at TIME`
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    MATCHES = "matches"  # string: case-sensitive substring; regex: RE2 search
    LIKE = "like"  # `is like X`: case-insensitive substring
    CONTAINS = "contains"  # `contains`, `includes`, `include`
    IN = "in"  # `is in C`
    CONTAINS_ALL = "contains_all"  # `contains all of C`
    CONTAINS_EITHER = "contains_either"  # `contains either C`
    CONTAINS_NONE = "contains_none"  # `contains none of C`, `contains neither C`
    DEFINED = "defined"  # `is defined`, `is known`; args = ()
    EMPTY = "empty"  # `is empty`
    ANONYMOUS = "anonymous"  # `user is anonymous`; subject = Variable("user")
    IDENTIFIED = "identified"
    RETURNING = "returning"
    STARTING = "starting"  # `session is starting`


class CompareMode(enum.StrEnum):
    IGNORING_CASE = "ignoring case"
    IGNORING_TIME = "ignoring time"
    IGNORING_FRACTION = "ignoring fraction"
    CONSIDERING_NUMBERS = "considering numbers"


@dataclass(frozen=True, slots=True)
class Test(Node):
    """`subject <test> args...`, e.g. `user's plan is not "pro"`, `x is between 1 and 3`.

    `negated` is the test's own negative form (`is not`, `does not contain`, ...), which is
    exactly `not` of the positive form at run time.
    """

    __test__ = False  # not a pytest class

    op: TestOp
    subject: Expr
    args: tuple[Expr, ...] = ()
    negated: bool = False
    mode: CompareMode | None = None


# --------------------------------------------------------------------------------------
# Quantifiers, macros, modifiers
# --------------------------------------------------------------------------------------


class QuantifierKind(enum.StrEnum):
    """`not every ...` parses as `Unary(NOT, Quantifier(EVERY, ...))`."""

    EVERY = "every"
    SOME = "some"
    NO = "no"
    AT_LEAST = "at least"
    AT_MOST = "at most"
    EXACTLY = "exactly"


@dataclass(frozen=True, slots=True)
class Quantifier(Node):
    """`every item in C [indexed by i] satisfies cond`;
    `at least N of any [distinct] item in C [indexed by i] satisfies cond` (count = N)."""

    kind: QuantifierKind
    item: str
    collection: Expr
    condition: Expr
    index: str | None = None
    count: Expr | None = None
    distinct: bool = False


class MacroOp(enum.StrEnum):
    COUNT = "count"
    SUM = "sum"
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    AVERAGE = "average"
    FIRST = "first"
    LAST = "last"
    KEYS = "keys"
    VALUES = "values"


@dataclass(frozen=True, slots=True)
class Macro(Node):
    """`[the] count of C`, `sum of C`, `min of C`, ...: binds like a unary operator."""

    op: MacroOp
    operand: Expr


class Period(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class ThisPeriod(Node):
    """`this week` (`2024-W30`), `this month` (`2024-07`), `this year` (2024)."""

    period: Period


class CountUnit(enum.StrEnum):
    YEARS = "years"
    MONTHS = "months"
    WEEKS = "weeks"
    WEEKDAYS = "weekdays"
    WEEKEND_DAYS = "weekend days"
    DAYS = "days"
    HOURS = "hours"
    MINUTES = "minutes"
    SECONDS = "seconds"
    MILLISECONDS = "milliseconds"


@dataclass(frozen=True, slots=True)
class UnitsBetween(Node):
    """`[the] number of days between A and B`: complete units, negative if reversed."""

    unit: CountUnit
    start: Expr
    end: Expr


class CastType(enum.StrEnum):
    BOOLEAN = "boolean"
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    COLLECTION = "collection"
    TIME = "time"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Cast(Node):
    """`V as TYPE`."""

    operand: Expr
    type: CastType


@dataclass(frozen=True, slots=True)
class AtTime(Node):
    """`V at TIME`: a date or date-time with its time set (`today at "12:00"`)."""

    operand: Expr
    time: Expr


class CaseStyle(enum.StrEnum):
    LOWER = "lower"
    UPPER = "upper"
    TITLE = "title"
    SENTENCE = "sentence"


@dataclass(frozen=True, slots=True)
class ChangeCase(Node):
    """`V in lower case`."""

    operand: Expr
    style: CaseStyle


class RoundingMode(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    HALF_UP = "half up"
    HALF_DOWN = "half down"
    HALF_EVEN = "half even"
    HALF_ODD = "half odd"


@dataclass(frozen=True, slots=True)
class Round(Node):
    """`V rounded [MODE] [with scale of N]`; mode defaults to UP, scale to 0."""

    operand: Expr
    mode: RoundingMode = RoundingMode.UP
    scale: Expr | None = None


@dataclass(frozen=True, slots=True)
class WithoutDuplicates(Node):
    operand: Expr


class SortDirection(enum.StrEnum):
    ASCENDING = "ascending"
    DESCENDING = "descending"


class SortOrder(enum.StrEnum):
    NATURAL = "natural"  # not written; the default
    ALPHABETICAL = "alphabetical"
    ALPHANUMERICAL = "alphanumerical"
    NUMERICAL = "numerical"


@dataclass(frozen=True, slots=True)
class Sort(Node):
    """`C sorted [ascending|descending] [alphabetical|alphanumerical|numerical]`."""

    operand: Expr
    direction: SortDirection = SortDirection.ASCENDING
    order: SortOrder = SortOrder.NATURAL


# --------------------------------------------------------------------------------------
# Event expressions: `user has [not] <phrase> [criteria] [count] [window]`
# --------------------------------------------------------------------------------------


class EventKind(enum.StrEnum):
    """The phrase, by the tracked event type it reads (`variables["events"][i]["type"]`)."""

    CART_ABANDONED = "cartAbandoned"  # abandoned a cart
    PRODUCT_ABANDONED = "productAbandoned"  # abandoned a product
    PRODUCT_VIEWED = "productViewed"  # viewed a product
    ORDER_PLACED = "orderPlaced"  # placed an order
    PRODUCT_ORDERED = "productOrdered"  # ordered a product (items of orderPlaced)
    CAMPAIGN_VIEWED = "campaignViewed"  # viewed a campaign
    PAGE_OPENED = "pageOpened"  # viewed a page
    POST_VIEWED = "postViewed"  # viewed a post
    LINK_OPENED = "linkOpened"  # opened a link
    INTEREST_SHOWN = "interestShown"  # shown interest in TOPICS
    EVENT_OCCURRED = "eventOccurred"  # experienced a custom event NAME
    GOAL_COMPLETED = "goalCompleted"  # completed goal GOAL_ID
    USER_SIGNED_IN = "userSignedIn"  # signed in
    USER_SIGNED_UP = "userSignedUp"  # signed up


class CriterionOp(enum.StrEnum):
    EQUAL = "equal to"  # also written with no operator: `with url "x"`
    GREATER = "greater than"
    GREATER_EQUAL = "greater than or equal to"
    LESS = "less than"
    LESS_EQUAL = "less than or equal to"
    STARTING = "starting with"
    ENDING = "ending with"
    LIKE = "like"
    IN = "in"
    CONTAINING = "containing"
    CONTAINING_ALL = "containing all of"
    CONTAINING_NONE = "containing none of"
    CONTAINING_EITHER = "containing either"
    CONTAINING_NEITHER = "containing neither"


@dataclass(frozen=True, slots=True)
class Criterion(Node):
    """`url like "pricing"`, `details.rating 5`: a property path of the event, op, value."""

    path: tuple[str, ...]
    op: CriterionOp
    value: Expr


class CriteriaJoin(enum.StrEnum):
    AND = "and"  # also `,`
    OR = "or"


@dataclass(frozen=True, slots=True)
class CriteriaGroup(Node):
    join: CriteriaJoin
    items: tuple[Criteria, ...]


Criteria: TypeAlias = "Criterion | CriteriaGroup"


class TopicDeterminer(enum.StrEnum):
    """For `shown interest in ...`: how the topics relate to the event's interests."""

    ANY = "any"  # a bare string or list: any topic
    ALL_OF = "all of"
    EITHER = "either"
    NONE_OF = "none of"
    NEITHER = "neither"


class CountOp(enum.StrEnum):
    EXACTLY = "exactly"
    AT_LEAST = "at least"
    AT_MOST = "at most"


@dataclass(frozen=True, slots=True)
class EventCount(Node):
    """`at least 2 times`; a bare `3 times` is EXACTLY."""

    op: CountOp
    times: Expr


class WindowKind(enum.StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this week"
    THIS_MONTH = "this month"
    THIS_YEAR = "this year"
    THIS_SESSION = "this session"
    LAST_SESSION = "last session"
    LAST_WEEK = "last week"
    LAST_MONTH = "last month"
    LAST_YEAR = "last year"
    IN_LAST = "in the last"  # `in [the] last DURATION`; duration set


@dataclass(frozen=True, slots=True)
class EventWindow(Node):
    kind: WindowKind
    duration: DurationLiteral | None = None


@dataclass(frozen=True, slots=True)
class EventTest(Node):
    """`user has [not] viewed a page with url like "x" at least 2 times in the last 7 days`.

    `argument` is the goal id, the custom event name, or the interest topics;
    `determiner` only applies to interests. Every part is optional except the event.
    """

    event: EventKind
    negated: bool = False
    argument: Expr | None = None
    determiner: TopicDeterminer | None = None
    criteria: Criteria | None = None
    count: EventCount | None = None
    window: EventWindow | None = None


# --------------------------------------------------------------------------------------
# The expression union
# --------------------------------------------------------------------------------------

Expr: TypeAlias = (
    "NullLiteral | BooleanLiteral | IntegerLiteral | DecimalLiteral | FloatLiteral"
    " | StringLiteral | RegexLiteral | DurationLiteral | ListLiteral | MapLiteral"
    " | Variable | Attribute | Index | Call | Lambda | Let"
    " | Unary | Binary | Comparison | Conditional | Test"
    " | Quantifier | Macro | ThisPeriod | UnitsBetween"
    " | Cast | AtTime | ChangeCase | Round | WithoutDuplicates | Sort"
    " | EventTest"
)

LITERAL_TYPES: tuple[type[Node], ...] = (
    NullLiteral,
    BooleanLiteral,
    IntegerLiteral,
    DecimalLiteral,
    FloatLiteral,
    StringLiteral,
    RegexLiteral,
    DurationLiteral,
)


def is_literal(node: Node) -> bool:
    """A literal in the sense of `is LITERAL`: scalars, durations, and list/map literals of
    literals (a negative number literal `-1` counts)."""
    if isinstance(node, LITERAL_TYPES):
        return True
    if isinstance(node, Unary) and node.op in (UnaryOp.NEG, UnaryOp.POS):
        return isinstance(node.operand, IntegerLiteral | DecimalLiteral | FloatLiteral)
    if isinstance(node, Unary) and node.op is UnaryOp.PERCENT:
        return is_literal(node.operand)
    if isinstance(node, ListLiteral):
        return all(is_literal(i) for i in node.items)
    if isinstance(node, MapLiteral):
        return all(is_literal(e.key) and is_literal(e.value) for e in node.entries)
    return False
