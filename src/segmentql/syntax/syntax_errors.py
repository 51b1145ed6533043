"""Lark's parse errors → diagnostics in the words of the query language.

A lark error names terminals (`IS`, `DQ_STRING`, `$END`); users need "expected a value after
'is'". The mapping looks at the unexpected token, the token before it and the set of
terminals the parser would have taken, and picks a code from `segmentql.codes` (Q1xx).
End-of-input errors point at the end of the text (lark reuses the last token's position).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from segmentql.diagnostics import Diagnostic, Severity, Span
from segmentql.syntax.lexer import ParseState

#: Terminals that can start an operand; if the parser wanted any of these, "a value" is missing.
VALUE_STARTS = frozenset({
    "NAME", "INT", "DECIMAL", "FLOAT", "DQ_STRING", "SQ_STRING", "REGEX", "LSQB", "NULL", "TRUE",
    "FALSE",
})
_DESCRIPTIONS = {
    "NAME": "a name",
    "INT": "a whole number",
    "DECIMAL": "a number",
    "FLOAT": "a number",
    "DQ_STRING": "a string",
    "SQ_STRING": "a string",
    "REGEX": "a regular expression",
    "POSS": "'s",
    "SPOSS": "'",
    "OR_ELSE": "'or else'",
    "MACRO_OF": "'count of', 'sum of', ...",
    "NUMBER_OF": "'number of'",
    "CRIT_AND": "'and'",
    "CRIT_OR": "'or'",
    "CRIT_COMMA": "','",
    "$END": "the end of the query",
}
_PUNCTUATION = {
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "COMMA": ",", "COLON": ":",
    "SEMI": ";", "DOT": ".", "DOTDOT": "..", "ARROW": "=>", "ASSIGN": "=", "EQEQ": "==",
    "NE": "!=", "LE": "<=", "GE": ">=", "LT": "<", "GT": ">", "PLUS": "+", "MINUS": "-",
    "STAR": "*", "SLASH": "/", "POW": "**", "PERCENT": "%", "AMP": "&", "AMPAMP": "&&",
    "PIPEPIPE": "||", "BANG": "!", "QQ": "??",
}
_EVENT_WORDS = frozenset({
    "ABANDONED", "VIEWED", "PLACED", "ORDERED", "OPENED", "SHOWN", "EXPERIENCED", "COMPLETED",
    "SIGNED",
})
_QUANTIFIER_STARTS = frozenset({"EVERY", "SOME", "NO", "DISTINCT", "ANY"})
_QUANTIFIER_WORDS = _QUANTIFIER_STARTS | {"INDEXED", "LEAST", "MOST", "EXACTLY"}
_MODIFIER_WORDS = frozenset(["ROUNDED", "SORTED", "WITHOUT", "SCALE"])
_NAME_KEYWORDS = frozenset({"THIS"})
_UNIT_TERMINALS = frozenset({"DAY", "DAYS", "HOUR", "HOURS", "YEAR", "YEARS"})
_CLOSERS = {"RPAR": "(", "RSQB": "["}


def describe(terminal: str) -> str:
    """How a terminal is named in messages: `'is'`, `'('`, `a string`..."""
    if terminal in _DESCRIPTIONS:
        return _DESCRIPTIONS[terminal]
    if terminal in _PUNCTUATION:
        return f"'{_PUNCTUATION[terminal]}'"
    return f"'{terminal.lower().replace('_', ' ')}'"


@cache
def _operators() -> frozenset[str]:
    """What may follow a complete operand (`x`): operators, tests, modifiers."""
    from segmentql.syntax.parser import expected_tokens

    return expected_tokens("x") - {"$END", "LPAR", "ARROW"}


@cache
def _operand_starts() -> frozenset[str]:
    """What may start an operand: literals, names, brackets, `not`, `every`, `count of`..."""
    from segmentql.syntax.parser import expected_tokens

    return expected_tokens("") - {"$END"}


def describe_expected(expected: Iterable[str]) -> str:
    """`{"IS", "DOT", "$END"}` → "'.', 'is' or the end of the query"; large sets of
    operators are summarised as "an operator"."""
    names = set(expected)
    parts: list[str] = []
    if {"NAME", "INT", "DQ_STRING"} <= names:
        parts.append("a value")
        names -= VALUE_STARTS | _operand_starts()
    operators = names & _operators()
    if len(operators) > 6:
        parts.append("an operator")
        names -= operators
    end = "$END" in names
    names.discard("$END")
    words = sorted({describe(n) for n in names if not n.startswith("__")})
    parts.extend(w for w in words if w not in parts)
    if end:
        parts.append(describe("$END"))
    if not parts:
        return "something else"
    if len(parts) > 8:
        parts = [*parts[:7], "..."]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _show(token: Token) -> str:
    """A token as quoted in a message: 'is', or "'s" when it holds a single quote."""
    text = str(token)
    text = text if len(text) <= 20 else text[:17] + "..."
    return f'"{text}"' if "'" in text else f"'{text}'"


def diagnose(error: UnexpectedInput, state: ParseState) -> list[Diagnostic]:
    """The diagnostics for one lark error (usually one)."""
    if isinstance(error, UnexpectedToken):
        return [_unexpected_token(error, state)]
    if isinstance(error, UnexpectedCharacters):
        return [_unexpected_character(error, state)]
    pos = getattr(error, "pos_in_stream", None) or len(state.text)
    return [_error("Q101", state.span(pos, pos), "this query does not parse")]


def _error(code: str, span: Span, message: str, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, help=help)


def _unexpected_character(error: UnexpectedCharacters, state: ParseState) -> Diagnostic:
    text = state.text
    pos = error.pos_in_stream or 0
    char = text[pos] if pos < len(text) else ""
    if char in "\"'":
        return _error(
            "Q103", state.span(pos, len(text)), "unterminated string: the closing quote is "
            "missing", help=f"end the string with {char}",
        )
    if char == "~":
        end = len(text) if text.startswith("~/", pos) else pos + 1
        return _error(
            "Q105", state.span(pos, end), "invalid regular-expression literal",
            help="write a regular expression as ~/pattern/flags, e.g. ~/^a.*z$/i",
        )
    shown = char if char.isprintable() and not char.isspace() else repr(char)
    return _error("Q100", state.span(pos, pos + 1), f"unexpected character '{shown}'")


def _unexpected_token(error: UnexpectedToken, state: ParseState) -> Diagnostic:
    token: Token = error.token
    expected = _precise_expected(error)
    at_end = token.type == "$END"
    if at_end:
        history = state.tokens
        span = state.span(len(state.text), len(state.text))
    else:
        history = [t for t in state.tokens if (t.start_pos or 0) < (token.start_pos or 0)]
        span = state.span(token.start_pos or 0, token.end_pos or 0)
    prev = history[-1] if history else None
    before = history[-2] if len(history) > 1 else None
    found = "" if at_end else f", found {_show(token)}"
    after = f" after {_show(prev)}" if prev is not None else ""
    prev_type = prev.type if prev is not None else ""

    if at_end and prev is None:
        return _error("Q113", state.span(0, len(state.text)), "the query is empty",
                      help="write an expression, e.g. user's plan is \"pro\"")
    if not at_end and token.type in _CLOSERS and not state.open_brackets_before(token):
        return _error(
            "Q112", span, f"'{token}' closes a bracket that was never opened",
            help="remove it, or add the matching opening bracket",
        )
    if not at_end and token.type == "NAME" and prev_type in ("INT", "DECIMAL") and (
        expected & _UNIT_TERMINALS
    ):
        return _error(
            "Q110", span, f"unknown duration unit '{token}'",
            help="units: year, month, week, weekday, weekend day, day, hour, minute, second, "
            "millisecond, microsecond, nanosecond (singular or plural)",
        )
    if prev_type in _NAME_KEYWORDS and expected <= {"WEEK", "MONTH", "YEAR"}:
        assert prev is not None
        return _error(
            "Q121", state.span(prev.start_pos or 0, prev.end_pos or 0),
            f"'{prev}' is a reserved word and cannot be used as a name here",
            help="'this' starts 'this week', 'this month' or 'this year'; to read a property "
            "named 'this', write it after 's or a dot",
        )
    if prev_type == "HAS" or (prev_type == "NOT" and before is not None and before.type == "HAS"):
        return _error(
            "Q116", span, f"expected an event{after}{found}",
            help="events: abandoned a cart|product, viewed a product|campaign|page|post, "
            "placed an order, ordered a product, opened a link, shown interest in ..., "
            "experienced a custom event ..., completed goal ..., signed in|up",
        )
    if prev_type in _EVENT_WORDS or (before is not None and before.type in _EVENT_WORDS
                                     and prev_type in ("A", "AN", "THE")):
        return _error("Q116", span, f"expected {describe_expected(expected)}{after}{found}")
    if prev_type == "AS" or (prev_type == "IN" and "LOWER" in expected):
        what = "type" if prev_type == "AS" else "case style"
        return _error("Q120", span, f"expected a {what}{after}{found}",
                      help=f"use one of {describe_expected(expected)}")
    if prev_type in ("HALF", "NUMBER_OF"):
        what = "rounding mode" if prev_type == "HALF" else "unit"
        return _error("Q120", span, f"expected a {what}{after}{found}",
                      help=f"use one of {describe_expected(expected)}")
    quantifier_words = expected & {"SATISFIES", "SATISFY", "INDEXED", "ANY"}
    if prev is not None and before is not None and before.type in _QUANTIFIER_STARTS:
        quantifier_words |= expected & {"IN"}
    if (quantifier_words and _in_quantifier(history)) or (
        prev_type in _QUANTIFIER_WORDS and "NAME" in expected and len(expected) <= 2
    ):
        return _error(
            "Q117", span,
            f"expected {describe_expected(quantifier_words or expected)}{after}{found}",
            help="quantifiers read 'every|some|no ITEM in COLLECTION satisfies CONDITION' or "
            "'at least|at most|exactly N of any ITEM in COLLECTION satisfies CONDITION'",
        )
    if prev_type == "LET" or (expected <= {"SEMI", "ASSIGN", "NAME"} and "SEMI" in expected) or (
        expected == {"ASSIGN"}
    ):
        return _error(
            "Q118", span, f"expected {describe_expected(expected)}{after}{found}",
            help="declarations read 'let NAME = EXPRESSION;' before the query",
        )
    if prev_type in _MODIFIER_WORDS:
        return _error("Q119", span, f"expected {describe_expected(expected)}{after}{found}")
    if expected & VALUE_STARTS and {"NAME", "INT"} <= expected and prev is not None:
        return _error("Q114", span, f"expected a value{after}{found}")
    if at_end:
        opener = state.innermost_open_bracket()
        if opener is not None:
            closer = ")" if opener.type == "LPAR" else "]"
            return _error(
                "Q111", state.span(opener.start_pos or 0, opener.end_pos or 0),
                f"'{opener}' is never closed", help=f"add '{closer}'",
            )
        return _error("Q102", span, f"unexpected end of query; expected "
                      f"{describe_expected(expected)}{after}")
    return _error(
        "Q101", span, f"unexpected {_show(token)}; expected {describe_expected(expected)}{after}",
        help="compare with '==' or 'is'; '=' only appears in 'let NAME = ...;'"
        if token.type == "ASSIGN" else None,
    )


def _precise_expected(error: UnexpectedToken) -> set[str]:
    """The terminals the parser would really take at the error.

    `error.expected` is not reliable: when the contextual lexer fails it holds the lexer's
    terminals (keywords folded into NAME), and LALR error states over-approximate what may
    follow (merged look-aheads). So replay every terminal of the state on the stack."""
    from segmentql.syntax.lexer import parser_accepts

    fallback = {e for e in error.expected if not e.startswith("__")}
    parser_state = getattr(error, "state", None)
    if parser_state is None or not hasattr(parser_state, "state_stack"):
        return fallback
    candidates = parser_state.parse_conf.states[parser_state.position]
    precise = {
        c for c in candidates
        if (c.isupper() or c == "$END") and not c.startswith("__")
        and parser_accepts(parser_state, c)
    }
    return precise or fallback


def _in_quantifier(history: list[Token]) -> bool:
    return any(t.type in _QUANTIFIER_WORDS or t.type == "SATISFIES" for t in history)
