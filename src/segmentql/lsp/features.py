"""Editor features as pure functions over text and code-point offsets (no pygls here).

    diagnose(text, schema) -> list[Diagnostic]
    complete(text, offset, schema) -> list[Completion]
    hover(text, offset, schema) -> HoverInfo | None
    format_text(text) -> str | None

`segmentql.lsp.server` converts offsets to LSP positions and these results to LSP types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from segmentql.diagnostics import Diagnostic
from segmentql.schema import Schema, SchemaType, TypeKind
from segmentql.syntax import ast as syn

#: Completion kinds (named after LSP's `CompletionItemKind`).
VARIABLE = "variable"
FIELD = "field"
OPERATOR = "operator"
KEYWORD = "keyword"
VALUE = "value"
FUNCTION = "function"


@dataclass(frozen=True, slots=True)
class Completion:
    """One completion candidate: `label` is inserted (replacing the word at the cursor)."""

    label: str
    kind: str
    detail: str = ""
    documentation: str = ""
    #: Sort key: lower first (variables and attributes before keywords).
    rank: int = 0


@dataclass(frozen=True, slots=True)
class HoverInfo:
    """Markdown for the node under the cursor, and the node's code-point range."""

    markdown: str
    start: int
    end: int


# ------------------------------------------------------------------------------------------
# Diagnostics and formatting
# ------------------------------------------------------------------------------------------


def diagnose(text: str, schema: Schema, *, expect: type | None = None) -> list[Diagnostic]:
    """Every diagnostic of a query (the checker's, which never raises)."""
    from segmentql.checker import check

    return check(text, schema, expect=expect)


def format_text(text: str) -> str | None:
    """The canonically formatted query, or None when it does not parse (nothing to do)."""
    from segmentql.errors import QueryError
    from segmentql.syntax.formatter import format_query

    try:
        return format_query(text)
    except QueryError:
        return None


# ------------------------------------------------------------------------------------------
# Completion
# ------------------------------------------------------------------------------------------

_WORD_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ACCESSOR = re.compile(r"(?:'s?|\.)\s*\Z")
_BARE_POSSESSIVE = re.compile(r"\w'\s*\Z")
_IS_BEFORE = re.compile(r"\bis\s+\Z", re.IGNORECASE)
#: A postfix chain ending the text: `user's address's city`, `cart.items[0]`, `user' s`.
_CHAIN = re.compile(
    r"(?<![\w'.\"\]])[A-Za-z_]\w*"
    r"(?:\s*'s\s+[A-Za-z_]\w*|\s*'\s+[A-Za-z_]\w*|\s*\.\s*[A-Za-z_]\w*|\s*\[[^\[\]\n]*\])*"
    r"\s*\Z"
)
_PLACEHOLDER = "zzSegmentqlCompletionZz"

#: (test key in the checker's operator table, how it is written), in menu order.
_TESTS: tuple[tuple[str, str], ...] = (
    ("equal", "is"),
    ("equal", "is not"),
    ("equal", "is equal to"),
    ("in", "is in"),
    ("in", "is not in"),
    ("defined", "is defined"),
    ("defined", "is not defined"),
    ("empty", "is empty"),
    ("empty", "is not empty"),
    ("greater", "is greater than"),
    ("greater_equal", "is at least"),
    ("less", "is less than"),
    ("less_equal", "is at most"),
    ("between", "is between"),
    ("before", "is before"),
    ("after", "is after"),
    ("at_time", "is at"),
    ("starts_with", "starts with"),
    ("starts_with", "does not start with"),
    ("ends_with", "ends with"),
    ("ends_with", "does not end with"),
    ("like", "is like"),
    ("matches", "matches"),
    ("matches", "does not match"),
    ("contains", "contains"),
    ("contains", "does not contain"),
    ("contains_all", "contains all of"),
    ("contains_either", "contains either"),
    ("contains_none", "contains none of"),
    ("==", "=="),
    ("!=", "!="),
    ("<", "<"),
    ("<=", "<="),
    (">", ">"),
    (">=", ">="),
)

#: Keywords offered where an expression may start, with the terminals that allow each.
_START_KEYWORDS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (word, frozenset(terminals.split()))
    for word, terminals in (
        ("not", "NOT"), ("every", "EVERY"), ("some", "SOME"), ("no", "NO"), ("let", "LET"),
        ("count of", "COUNT MACRO_OF"), ("this week", "THIS"), ("true", "TRUE"),
        ("false", "FALSE"),
    )
)


def complete(text: str, offset: int, schema: Schema) -> list[Completion]:
    """Candidates at `offset`: attributes after `'s`/`.`, variables where an expression may
    start, and the tests valid for the type of the operand before the cursor."""
    from segmentql.syntax.parser import expected_tokens

    offset = max(0, min(offset, len(text)))
    word = _WORD_BEFORE.search(text, 0, offset)
    word_start = word.start() if word is not None else offset
    before = text[:word_start]
    expected = expected_tokens(before)
    out: list[Completion] = []
    # A prefix ending in a bare `'` (`users' `) does not lex (it could open a string), so
    # the parser reports nothing; it is still an accessor.
    bare_possessive = not expected and _BARE_POSSESSIVE.search(before) is not None
    if (expected == {"NAME"} or bare_possessive) and _ACCESSOR.search(before):
        return _attributes(text, before, word_start, offset, schema)
    if "IS" in expected or "STARTS" in expected:
        out.extend(_tests_after(before, schema, strip_is=False))
    elif ("DEFINED" in expected or "GREATER" in expected) and _IS_BEFORE.search(before):
        subject = before[: _IS_BEFORE.search(before).start()]  # type: ignore[union-attr]
        out.extend(_tests_after(subject, schema, strip_is=True))
        out.extend(_enum_values(subject, schema))
    out.extend(_event_parts(before, expected))
    right_after_with = re.search(r"\bwith\s*\Z", before, re.IGNORECASE) is not None
    if "NAME" in expected and not (right_after_with and _in_criteria(before, expected)):
        out.extend(_variables(schema))
    out.extend(
        Completion(word, KEYWORD, rank=3) for word, terminals in _START_KEYWORDS
        if terminals & expected
    )
    return _unique(out)


# ------------------------------------------------------------------------------------------
# Event expressions: `user has viewed a page with url like "x" in the last 7 days`
# ------------------------------------------------------------------------------------------

#: (phrase, its first word's terminal, (verb, noun) naming the event), in menu order.
_EVENT_PHRASES: tuple[tuple[str, str, str], ...] = (
    ("viewed a page", "VIEWED", "viewed page"),
    ("viewed a product", "VIEWED", "viewed product"),
    ("viewed a post", "VIEWED", "viewed post"),
    ("viewed a campaign", "VIEWED", "viewed campaign"),
    ("placed an order", "PLACED", "placed order"),
    ("ordered a product", "ORDERED", "ordered product"),
    ("abandoned a cart", "ABANDONED", "abandoned cart"),
    ("abandoned a product", "ABANDONED", "abandoned product"),
    ("opened a link", "OPENED", "opened link"),
    ("shown interest in", "SHOWN", "shown interest"),
    ("experienced custom event", "EXPERIENCED", "experienced event"),
    ("completed goal", "COMPLETED", "completed goal"),
    ("signed in", "SIGNED", "signed in"),
    ("signed up", "SIGNED", "signed up"),
)
_EVENT_KIND_OF = {
    "viewed page": "pageOpened", "viewed product": "productViewed", "viewed post": "postViewed",
    "viewed campaign": "campaignViewed", "placed order": "orderPlaced",
    "ordered product": "productOrdered", "abandoned cart": "cartAbandoned",
    "abandoned product": "productAbandoned", "opened link": "linkOpened",
    "shown interest": "interestShown", "experienced event": "eventOccurred",
    "completed goal": "goalCompleted", "signed in": "userSignedIn", "signed up": "userSignedUp",
}
_LAST_EVENT = re.compile(
    r"\bhas\s+(?:not\s+)?(\w+)\s+(?:(?:a|an|the|custom)\s+)*(\w+)", re.IGNORECASE
)
#: What may follow an event phrase, with the terminal that allows it.
_EVENT_TAILS = (
    ("with", "WITH"), ("in the last 7 days", "IN"), ("today", "TODAY"),
    ("yesterday", "YESTERDAY"), ("this week", "THIS"), ("this session", "THIS"),
    ("last session", "LAST"), ("at least 2 times", "AT"), ("exactly 1 times", "EXACTLY"),
)
_CRITERION_OPS: dict[str, tuple[str, ...]] = {
    "string": ("like", "starting with", "ending with", "containing", "in", "equal to"),
    "number": ("greater than", "less than", "greater than or equal to",
               "less than or equal to", "equal to", "in"),
    "list": ("containing", "containing all of", "containing either", "containing none of"),
}


def _event_kind(before: str) -> str | None:
    """The tracked event type of the last `has <phrase>` before the cursor."""
    found = None
    for match in _LAST_EVENT.finditer(before):
        found = match
    if found is None:
        return None
    return _EVENT_KIND_OF.get(f"{found.group(1).lower()} {found.group(2).lower()}")


def _in_criteria(before: str, expected: frozenset[str]) -> bool:
    """After `with` (or a criteria joiner) of an event expression: property names expected."""
    return "PROPERTY" in expected and _event_kind(before) is not None and bool(
        re.search(r"\b(?:with|and|or)\s*\Z|,\s*\Z", before, re.IGNORECASE)
    ) and re.search(r"\bwith\b", before[_last_has(before):], re.IGNORECASE) is not None


def _last_has(before: str) -> int:
    found = [m.start() for m in _LAST_EVENT.finditer(before)]
    return found[-1] if found else 0


def _event_parts(before: str, expected: frozenset[str]) -> list[Completion]:
    """Event phrases after `has`, what may follow a phrase, the event's properties in its
    criteria, and the criterion operators after a property."""
    from segmentql.checker.events import EVENT_PROPERTIES
    from segmentql.checker.table import category
    from segmentql.syntax.ast import EventKind

    out = [
        Completion(phrase, KEYWORD, "event", rank=1)
        for phrase, terminal, _ in _EVENT_PHRASES if terminal in expected
    ]
    kind = _event_kind(before)
    if kind is None:
        return out
    properties = EVENT_PROPERTIES.get(EventKind(kind), {})
    if "WITH" in expected:
        out.extend(
            Completion(tail, KEYWORD, "event window, count or criteria", rank=2)
            for tail, terminal in _EVENT_TAILS if terminal in expected
        )
    if _in_criteria(before, expected):
        out.extend(
            Completion(name, FIELD, f"{type_.describe()} ({kind} property)", rank=0)
            for name, type_ in properties.items()
        )
    elif "CONTAINING" in expected or "STARTING" in expected:
        path = re.search(r"(\w+)\s*\Z", before)
        type_ = properties.get(path.group(1)) if path else None
        group = {"number": "number", "list": "list"}.get(
            str(category(type_)) if type_ is not None else "", "string")
        out.extend(Completion(op, OPERATOR, f"criterion on {group}", rank=1)
                   for op in _CRITERION_OPS[group])
    return out


def _unique(items: Iterable[Completion]) -> list[Completion]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.label not in seen:
            seen.add(item.label)
            out.append(item)
    return out


def _variables(schema: Schema) -> list[Completion]:
    items = [
        Completion(name, VARIABLE, spec.type.describe(), spec.description, rank=1)
        for name, spec in schema.variables.items()
    ]
    items.extend(
        Completion(name, FUNCTION, "function", getattr(fn, "description", "") or "", rank=2)
        for name, fn in schema.functions.items()
    )
    return items


def _attributes(
    text: str, before: str, word_start: int, offset: int, schema: Schema
) -> list[Completion]:
    target = _target_type(text, before, word_start, offset, schema)
    if target is None:
        return []
    return [
        Completion(name, FIELD, type_.describe(), description, rank=0)
        for name, type_, description in schema.attributes_of(target)
    ]


def _target_type(
    text: str, before: str, word_start: int, offset: int, schema: Schema
) -> SchemaType | None:
    """The type of the expression before `'s`/`.`: put a placeholder attribute at the cursor
    and let the checker type its target (so `let` names and quantifier items work too); fall
    back to typing the accessor chain alone."""
    from segmentql.checker import analyze

    rest_of_word = re.match(r"\w*", text[offset:])
    after = text[offset + (rest_of_word.end() if rest_of_word else 0):]
    for candidate in (before + _PLACEHOLDER + after, before + _PLACEHOLDER):
        analysis = analyze(candidate, schema, max_length=max(500, len(candidate)))
        if analysis.ast is None:
            continue
        for node in analysis.nodes():
            if isinstance(node, syn.Attribute) and node.name == _PLACEHOLDER:
                found = analysis.type_of(node.target)
                if found.kind is not TypeKind.ANY or found.fields:
                    return found
                break
    chain = _CHAIN.search(_ACCESSOR.sub("", before))
    if chain is None:
        return None
    return _type_of_text(chain.group().strip(), schema)


def _type_of_text(expression: str, schema: Schema) -> SchemaType | None:
    from segmentql.checker import analyze

    if not expression:
        return None
    analysis = analyze(expression, schema)
    if analysis.ast is None:
        return None
    return analysis.type_of(analysis.ast)


def _subject_type(before: str, schema: Schema) -> SchemaType | None:
    chain = _CHAIN.search(before)
    if chain is None:
        return None
    return _type_of_text(chain.group().strip(), schema)


def _tests_after(subject_text: str, schema: Schema, *, strip_is: bool) -> list[Completion]:
    from segmentql.checker.table import OPERATORS, category

    subject = _subject_type(subject_text, schema)
    cat = category(subject) if subject is not None else None
    described = subject.describe() if subject is not None else "any"
    out = []
    for key, written in _TESTS:
        info = OPERATORS.get(key)
        if info is None or not info.accepts(cat, None):
            continue
        label = written
        if strip_is:
            if not written.startswith("is "):
                continue
            label = written[3:]
        out.append(Completion(label, OPERATOR, f"{described} {info.written}", rank=2))
    return out


def _enum_values(subject_text: str, schema: Schema) -> list[Completion]:
    subject = _subject_type(subject_text, schema)
    if subject is None or subject.kind is not TypeKind.STRING or not subject.enum:
        return []
    from segmentql.syntax.formatter import format_string

    return [Completion(format_string(v), VALUE, subject.describe(), rank=0) for v in subject.enum]


# ------------------------------------------------------------------------------------------
# Hover
# ------------------------------------------------------------------------------------------


def hover(text: str, offset: int, schema: Schema) -> HoverInfo | None:
    """The type (and for attributes the path and description) of the innermost node at
    `offset`; None outside any node or when the query does not parse."""
    from segmentql.checker import analyze

    analysis = analyze(text, schema, max_length=max(500, len(text)))
    node = analysis.node_at(offset)
    if node is None and offset > 0:
        node = analysis.node_at(offset - 1)
    if node is None:
        return None
    type_text = analysis.type_of(node).describe()
    spec = analysis.attribute_of(node)
    if spec is not None:
        path = analysis.path_of(node)
        name = ".".join(path) if path else spec.name
        lines = [f"```segmentql\n{name}: {type_text}\n```"]
        if spec.description:
            lines.append(spec.description)
        message = spec.deprecation_message
        if message is not None:
            lines.append(f"**Deprecated**{': ' + message if message else ''}")
    else:
        lines = [f"```segmentql\n{_describe_node(node)}: {type_text}\n```"]
    return HoverInfo("\n\n".join(lines), node.span.start, node.span.end)


def _describe_node(node: syn.Node) -> str:
    if isinstance(node, syn.Test):
        return f"test {node.op.value}" + (" (negated)" if node.negated else "")
    if isinstance(node, syn.Binary):
        return f"operator {node.op.value}"
    if isinstance(node, syn.Variable):
        return node.name
    if isinstance(node, syn.EventTest):
        return f"event test ({node.event.value})"
    name = type(node).__name__
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
