"""Lark's parse errors → diagnostics in the words of the query language.

A lark error names terminals (`IS`, `DQ_STRING`, `$END`); users need "expected a value after
'is'". The mapping looks at the unexpected token, the token before it and the set of
terminals the parser would have taken, and picks a code from `segmentql.codes` (Q1xx).
End-of-input errors point at the end of the text (lark reuses the last token's position).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from segmentql.diagnostics import Diagnostic, Fix, Severity, Span
from segmentql.schema.suggest import did_you_mean
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
_CASE_STYLES = ("lower", "upper", "title", "sentence")


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


def _error(
    code: str, span: Span, message: str, help: str | None = None, fixes: tuple[Fix, ...] = ()
) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, help=help, fixes=fixes)


#: Typographic quotes (word processors, chat apps) and the quote each closes with.
_SMART_QUOTES = {"\u201c": "\u201d", "\u201d": "\u201d", "\u201e": "\u201c",
                 "\u00ab": "\u00bb", "\u2018": "\u2019", "\u2019": "\u2019",
                 "\u201a": "\u2018"}


def _smart_quote(pos: int, state: ParseState) -> Diagnostic:
    """Q126: a string in typographic quotes (`“pro”`), or `’` for an apostrophe (`user’s`)."""
    text = state.text
    char = text[pos]
    closers = {_SMART_QUOTES[char], char, '"' if char in "\u201c\u201d\u201e\u00ab" else "'"}
    if char == "\u2019" and text[pos + 1:pos + 2].lower() == "s" and pos > 0 and (
        text[pos - 1].isalnum()
    ):  # `user’s`: the possessive, not a string
        fix = Fix("Replace `\u2019` with `'`", state.span(pos, pos + 1), "'")
        return _error("Q126", state.span(pos, pos + 1), "typographic apostrophe '\u2019'",
                      help="write the possessive with a straight quote: 's", fixes=(fix,))
    end = next((i for i in range(pos + 1, len(text)) if text[i] in closers), None)
    if end is None:
        fix = Fix(f"Replace `{char}` with `\"`", state.span(pos, pos + 1), '"')
        span = state.span(pos, pos + 1)
    else:
        inner = text[pos + 1:end]
        literal = json.dumps(inner, ensure_ascii=False)
        fix = Fix(f"Replace with {literal}", state.span(pos, end + 1), literal)
        span = state.span(pos, end + 1)
    return _error(
        "Q126", span, f"typographic quote '{char}': strings use straight quotes",
        help=f"write {fix.replacement}" if end is not None else 'use " or \' for strings',
        fixes=(fix,),
    )


#: Test words written inside event criteria, and the criterion forms that say the same.
_CRITERION_FORMS: dict[str, tuple[str, ...]] = {
    "contains": ("containing", "like"), "includes": ("containing", "like"),
    "include": ("containing", "like"), "contain": ("containing", "like"),
    "matches": ("like",), "is": ("equal to",), "equals": ("equal to",), "==": ("equal to",),
    "starts with": ("starting with",), "ends with": ("ending with",),
}


def _criterion_word(
    token: Token, prev: Token | None, history: list[Token], state: ParseState
) -> Diagnostic | None:
    """Q125: `with url contains "x"`: a test's wording inside event criteria."""
    if prev is None:
        return None
    has = max((i for i, t in enumerate(history) if t.type == "HAS"), default=None)
    if has is None or not any(t.type == "WITH" for t in history[has:]):
        return None
    word = str(prev).lower()
    start, end = prev.start_pos or 0, prev.end_pos or 0
    if word in ("starts", "ends") and token.type == "WITH":
        word, end = f"{word} with", token.end_pos or end
    forms = _CRITERION_FORMS.get(word)
    if forms is None:
        return None
    span = state.span(start, end)
    written = state.text[start:end]
    fixes = tuple(Fix(f"Replace `{written}` with `{form}`", span, form) for form in forms)
    return _error(
        "Q125", span,
        f"'{written}' is not a criterion operator; event criteria say "
        + " or ".join(f"'{f}'" for f in forms),
        help="criteria read 'with PROPERTY OPERATOR VALUE': equal to, greater than, less than, "
        "starting with, ending with, like, in, containing, containing all of|none of|either",
        fixes=fixes,
    )


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
    if char in _SMART_QUOTES:
        return _smart_quote(pos, state)
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
    if not at_end:
        criterion = _criterion_word(token, prev, history, state)
        if criterion is not None:
            return criterion
    if prev is not None and prev_type == "IN" and "LOWER" in expected and (
        token.type in ("LSQB", "LPAR", "DQ_STRING", "SQ_STRING", "INT", "DECIMAL", "FLOAT")
        or (token.type == "NAME" and not did_you_mean(str(token), _CASE_STYLES)
            and not state.text[token.end_pos or 0:].lstrip().lower().startswith("case"))
    ):
        in_span = state.span(prev.start_pos or 0, prev.end_pos or 0)
        return _error(
            "Q124", in_span, "'in' tests membership only after 'is': write 'is in'",
            help="write `is in [...]` (or `is not in`); 'in' alone is followed by a case "
            "style, as in `user's name in lower case`",
            fixes=(Fix("Replace `in` with `is in`", in_span, "is in"),),
        )
    if prev_type == "AS" or (prev_type == "IN" and "LOWER" in expected):
        what = "type" if prev_type == "AS" else "case style"
        close = did_you_mean(str(token), [describe(e).strip("'") for e in expected]) if (
            token.type == "NAME") else []
        fixes = tuple(Fix(f"Replace with `{c}`", span, c) for c in close)
        return _error("Q120", span, f"expected a {what}{after}{found}",
                      help=f"use one of {describe_expected(expected)}"
                      + (f"; did you mean `{close[0]}`?" if close else ""), fixes=fixes)
    if prev_type in ("HALF", "NUMBER_OF"):
        what = "rounding mode" if prev_type == "HALF" else "unit"
        close, fixes = _close_words(token, expected, span)
        return _error("Q120", span, f"expected a {what}{after}{found}",
                      help=f"use one of {describe_expected(expected)}"
                      + (f"; did you mean `{close[0]}`?" if close else ""), fixes=fixes)
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
    close, fixes = _close_words(token, expected, span)
    help_text = "compare with '==' or 'is'; '=' only appears in 'let NAME = ...;'" \
        if token.type == "ASSIGN" else (f"did you mean `{close[0]}`?" if close else None)
    return Diagnostic(
        "Q101", Severity.ERROR,
        f"unexpected {_show(token)}; expected {describe_expected(expected)}{after}", span,
        help=help_text, suggestions=tuple(close), fixes=fixes,
    )


def _close_words(
    token: Token, expected: Iterable[str], span: Span
) -> tuple[list[str], tuple[Fix, ...]]:
    """A mistyped keyword (`wiht` where only `with` fits): the close ones, and their fixes."""
    words = [describe(e).strip("'") for e in expected]
    words = [w for w in words if w.replace(" ", "").isalpha()]
    if token.type != "NAME" or not words or len(words) > 8:
        return [], ()
    close = did_you_mean(str(token), words, limit=2)
    return close, tuple(Fix(f"Replace `{token}` with `{c}`", span, c) for c in close)


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
