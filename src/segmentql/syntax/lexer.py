"""The lexer side of the parser: per-parse state, the contextual lexer, literal decoding.

Lark's contextual lexer offers, in each parser state, only the terminals that state accepts.
`QueryLexer` adds two things on top of it:

- NAME is always offered, so a keyword is only recognised as a whole word (`andy` is a
  name, never `and` + `y`), and a word that is not a keyword of the current state is a name.
- Inside event criteria, `and`, `or` and `,` are ambiguous for an LALR(1) parser: they may
  join another criterion or end the event expression (spec §2). When the parser could take a
  criteria join at that point, the lexer looks at the text after the word; if a criterion
  follows (a property path that is not a variable, then an operator or a value) the token
  becomes CRIT_AND / CRIT_OR / CRIT_COMMA.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from lark import Token
from lark.lexer import ContextualLexer, LexerState
from lark.parsers.lalr_analysis import Shift

from segmentql.codes import title
from segmentql.diagnostics import Diagnostic, Severity, Span


@dataclass(slots=True)
class ParseState:
    """Everything one parse collects: the text, diagnostics, and the tokens seen so far."""

    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Every token the parser was given, in order (for error messages).
    tokens: list[Token] = field(default_factory=list)
    #: Integer literals outside the 64-bit range, by offset; a minus sign may still rescue
    #: -9223372036854775808, so they are reported after the parse.
    big_integers: dict[int, Span] = field(default_factory=dict)

    def error(self, code: str, span: Span, message: str | None = None, *,
              help: str | None = None, notes: tuple[str, ...] = ()) -> None:
        self.diagnostics.append(
            Diagnostic(code, Severity.ERROR, message or title(code), span, notes=notes,
                       help=help)
        )

    def span(self, start: int, end: int) -> Span:
        return Span.from_offsets(self.text, start, end)

    def _open_brackets(self, tokens: list[Token]) -> list[Token]:
        stack: list[Token] = []
        for token in tokens:
            if token.type in ("LPAR", "LSQB"):
                stack.append(token)
            elif token.type in ("RPAR", "RSQB") and stack:
                stack.pop()
        return stack

    def open_brackets_before(self, token: Token) -> bool:
        """Whether a bracket is open just before `token` (one of the tokens seen)."""
        before = [t for t in self.tokens if (t.start_pos or 0) < (token.start_pos or 0)]
        return bool(self._open_brackets(before))

    def innermost_open_bracket(self) -> Token | None:
        stack = self._open_brackets(self.tokens)
        return stack[-1] if stack else None


#: The state of the parse running in this thread/task (the lark objects are shared).
CURRENT: ContextVar[ParseState] = ContextVar("segmentql_parse_state")


def current_state() -> ParseState:
    return CURRENT.get()


# --------------------------------------------------------------------------------------
# The contextual lexer
# --------------------------------------------------------------------------------------

#: The tokens that may join event criteria, and the terminal each becomes when it does.
CRITERIA_JOINS = {
    "AND": "CRIT_AND",
    "AMPAMP": "CRIT_AND",
    "OR": "CRIT_OR",
    "PIPEPIPE": "CRIT_OR",
    "COMMA": "CRIT_COMMA",
}

class QueryLexer(ContextualLexer):
    """Lark's contextual lexer with NAME always on and criteria joins decided (see module)."""

    def __init__(self, conf: Any, states: Any, always_accept: Any = ()) -> None:
        super().__init__(conf, states, always_accept=(*always_accept, "NAME"))

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        state = CURRENT.get(None)
        for token in super().lex(lexer_state, parser_state):
            join = CRITERIA_JOINS.get(token.type)
            if (
                join is not None
                and parser_accepts(parser_state, join)
                and looks_like_criterion(_text_of(lexer_state), token.end_pos or 0)
            ):
                token = Token.new_borrow_pos(join, token.value, token)
            if state is not None:
                state.tokens.append(token)
            yield token


def _text_of(lexer_state: LexerState) -> str:
    text = lexer_state.text
    return text if isinstance(text, str) else str(getattr(text, "text", text))


def parser_accepts(parser_state: Any, terminal: str) -> bool:
    """Would the LALR parser shift `terminal` now (after any reductions)? Works on a copy
    of the state stack only, so no callbacks run."""
    states = parser_state.parse_conf.states
    end_state = parser_state.parse_conf.end_state
    stack = list(parser_state.state_stack)
    while True:
        action = states[stack[-1]].get(terminal)
        if action is None:
            return False
        kind, arg = action
        if kind is Shift:
            return True
        size = len(arg.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][arg.origin.name][1])
        if stack[-1] == end_state:
            return terminal == "$END"


# --------------------------------------------------------------------------------------
# Criteria look-ahead (on the raw text)
# --------------------------------------------------------------------------------------

_SKIP = re.compile(r"(?:\s+|//[^\n]*|/\*[\s\S]*?\*/)*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Context variables: a criterion never starts with one (spec §2).
_VARIABLES = frozenset({
    "user", "session", "location", "device", "cart", "campaign", "context", "page", "browser",
    "now", "today", "yesterday", "tomorrow",
})
#: Words that cannot start a criterion: context variables and words that start expressions.
#: (`count of x > 1` needs no entry: its "path" `count of x` is followed by no operator.)
NOT_CRITERION_START = _VARIABLES | frozenset({
    "not", "every", "some", "no", "the", "this", "let", "true", "false", "null", "at",
    "exactly", "if", "property",
})
_CRITERION_OPERATOR_WORDS = frozenset({
    "equal", "greater", "less", "starting", "ending", "like", "in", "containing",
})
_VALUE_WORDS = _VARIABLES | frozenset({"true", "false", "null", "this"})
#: Words that may follow a complete operand: after a path, they mean an expression goes on
#: (`x is 1`, `x contains y`); any other word after a path is a value (`title y`).
_CONTINUATION_WORDS = frozenset({
    "and", "or", "is", "has", "contains", "includes", "include", "matches", "starts", "ends",
    "does", "before", "after", "as", "at", "rounded", "sorted", "without", "if", "else",
    "otherwise", "times", "time", "mod", "modulo", "plus", "minus", "divided", "to",
    "satisfies", "satisfy", "indexed", "exactly", "today", "yesterday", "last", "ignoring",
    "considering",
})
_VALUE_START = frozenset("\"'[~-+(0123456789")


def looks_like_criterion(text: str, pos: int) -> bool:
    """Whether the text at `pos` (just after `and`, `or` or `,`) starts an event criterion:
    a property path (`url`, `details.rating`, `packaging of cart's costs`) whose first word
    is not a variable or expression keyword, then a criterion operator or a value."""
    pos = _skip(text, pos)
    while pos < len(text) and text[pos] == "(":
        pos = _skip(text, pos + 1)
    word = _WORD.match(text, pos)
    if word is None:
        return False
    first = word.group().lower()
    if first in NOT_CRITERION_START:
        return False
    pos = word.end()
    while True:
        after = _skip(text, pos)
        accessor_end = _accessor_end(text, pos, after)
        if accessor_end is not None:
            nxt = _WORD.match(text, _skip(text, accessor_end))
            if nxt is None:
                return False
            pos = nxt.end()
            continue
        nxt = _WORD.match(text, after)
        if nxt is not None and nxt.group().lower() == "of":
            owner = _WORD.match(text, _skip(text, nxt.end()))
            if owner is not None and owner.group().lower() == "property":
                owner = _WORD.match(text, _skip(text, owner.end()))
            if owner is None:
                return False
            pos = owner.end()
            continue
        break
    if after >= len(text):
        return False
    if text[after] in _VALUE_START:
        return True
    nxt = _WORD.match(text, after)
    if nxt is None:
        return False
    word_after = nxt.group().lower()
    if word_after in _CRITERION_OPERATOR_WORDS or word_after in _VALUE_WORDS:
        return True
    return word_after not in _CONTINUATION_WORDS


def _accessor_end(text: str, pos: int, after: int) -> int | None:
    """End of an accessor (`'s`, `s'` or `.`) right after a word ending at `pos`."""
    if text[pos:pos + 2].lower() == "'s" and not _WORD.match(text, pos + 2) and (
        not text.startswith("'", pos + 2)
    ):
        return pos + 2
    if text.startswith("'", pos) and text[pos - 1] in "sS" and text[pos + 1:pos + 2].isspace():
        return pos + 1
    if text.startswith(".", after) and not text.startswith("..", after):
        return after + 1
    return None


def _skip(text: str, pos: int) -> int:
    match = _SKIP.match(text, pos)
    return match.end() if match else pos


# --------------------------------------------------------------------------------------
# Literal decoding
# --------------------------------------------------------------------------------------

_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


def decode_double_quoted(token: Token, state: ParseState) -> str:
    """The value of a double-quoted string: `\\\\ \\" \\' \\n \\t \\uXXXX` (surrogate
    pairs combine); any other escape is Q104 and is kept as written."""
    raw = str(token)[1:-1]
    if "\\" not in raw:
        return raw
    base = (token.start_pos or 0) + 1
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
            continue
        if nxt == "u":
            code, width = _unicode_escape(raw, i)
            if code is not None:
                out.append(chr(code))
                i += width
                continue
            bad_end = i + 2 + len(_HEX_PREFIX.match(raw, i + 2).group())  # type: ignore[union-attr]
            state.error(
                "Q104", state.span(base + i, base + bad_end),
                "invalid unicode escape: '\\u' takes four hex digits (a surrogate pair for "
                "characters beyond U+FFFF)",
            )
            out.append(raw[i:bad_end])
            i = bad_end
            continue
        state.error(
            "Q104", state.span(base + i, base + i + 2),
            f"invalid escape sequence '\\{nxt}' in string",
            help="the escapes are \\\\ \\\" \\' \\n \\t and \\uXXXX; single-quoted strings "
            "are raw",
        )
        out.append(raw[i:i + 2])
        i += 2
    return "".join(out)


_HEX_PREFIX = re.compile(r"[0-9A-Fa-f]{0,4}")


def _unicode_escape(raw: str, i: int) -> tuple[int | None, int]:
    hex1 = raw[i + 2:i + 6]
    if not re.fullmatch(r"[0-9A-Fa-f]{4}", hex1):
        return None, 0
    code = int(hex1, 16)
    if 0xD800 <= code <= 0xDBFF:
        if raw[i + 6:i + 8] == "\\u" and re.fullmatch(r"[0-9A-Fa-f]{4}", raw[i + 8:i + 12]):
            low = int(raw[i + 8:i + 12], 16)
            if 0xDC00 <= low <= 0xDFFF:
                return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), 12
        return None, 0
    if 0xDC00 <= code <= 0xDFFF:
        return None, 0
    return code, 6


def decode_single_quoted(token: Token) -> str:
    """Single-quoted strings are raw except that `\\'` is a quote."""
    return str(token)[1:-1].replace("\\'", "'")


REGEX_FLAGS = frozenset("ims")


def decode_regex(token: Token, state: ParseState) -> tuple[str, str]:
    """`~/pattern/flags` → (pattern with `\\/` unescaped to `/`, sorted unique flags)."""
    text = str(token)
    close = text.rindex("/")
    pattern = text[2:close].replace("\\/", "/")
    flags = text[close + 1:]
    start = (token.start_pos or 0) + close + 1
    for offset, flag in enumerate(flags):
        if flag not in REGEX_FLAGS:
            state.error(
                "Q105", state.span(start + offset, start + offset + 1),
                f"unknown regular-expression flag '{flag}'",
                help="the flags are i (ignore case), m (multi-line) and s (dot matches newline)",
            )
    return pattern, "".join(sorted(set(flags) & REGEX_FLAGS))
