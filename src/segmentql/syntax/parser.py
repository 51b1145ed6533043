"""Text → AST: the public parsing API.

    parse(text) -> Expr                         # raises QuerySyntaxError (all diagnostics)
    parse_with_diagnostics(text) -> ParseResult  # never raises
    expected_tokens(prefix) -> frozenset[str]    # for completion

One Lark LALR parser is built on first use from `segmentql/grammar/query.lark` (contextual
lexer, see `syntax.lexer`) and shared; AST nodes are built during the parse by the inline
transformer in `syntax.transform`, so nothing here recurses over the tree.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from lark import Lark
from lark.exceptions import LarkError, UnexpectedInput

from segmentql.diagnostics import Diagnostic, Severity, Span, has_errors, sort_diagnostics
from segmentql.errors import QuerySyntaxError
from segmentql.grammar import grammar_text
from segmentql.syntax import ast
from segmentql.syntax.driver import FastParser
from segmentql.syntax.lexer import CURRENT, ParseState, QueryLexer, current_state
from segmentql.syntax.syntax_errors import diagnose
from segmentql.syntax.transform import ToAst

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "RESERVED_WORDS",
    "ParseResult",
    "build_parser",
    "expected_tokens",
    "parse",
    "parse_with_diagnostics",
    "terminal_text",
]

DEFAULT_MAX_LENGTH = 500
DEFAULT_MAX_DEPTH = 64

#: Words that can never be a variable: they start an expression (`not x`, `every ...`,
#: `the count of ...`, `this week`, `at least 2 of any ...`, `let`, literals) or join
#: expressions (`and`, `or`: `x or or` is a missing value, not a variable `or`). Every other
#: keyword is contextual: a name wherever the keyword cannot stand, and after `'s`, `s'`,
#: `.` and `property` any word is an attribute name (grammar/README.md).
RESERVED_WORDS = frozenset({
    "and", "at", "every", "exactly", "false", "let", "no", "not", "null", "property", "some", "the",
    "or", "this", "true",
})


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What `parse_with_diagnostics` found.

    `ast` is the tree whenever the text has the shape of a query, even if a diagnostic was
    reported about one of its parts (an escape, an out-of-range literal, `is` + non-literal);
    it is None when the text does not parse or breaks a limit. `ok` means no errors.
    """

    ast: ast.Expr | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ast is not None and not has_errors(self.diagnostics)


def _unclosed_comment(token: Any) -> Any:
    state = current_state()
    start = token.start_pos or 0
    state.error(
        "Q115", state.span(start, len(state.text)), "unterminated block comment",
        help="close the comment with */",
    )
    return token


def build_parser(*, strict: bool = False) -> Lark:
    """A new parser for the grammar. `strict=True` makes any LALR conflict or terminal
    collision an error (used by the tests; needs `interegular`)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        # Spans come from tokens in the callbacks: lark's propagate_positions only fills
        # `meta` of lark Trees, which an inline transformer never builds, and its wrapper
        # would cost a call on every reduction.
        propagate_positions=False,
        maybe_placeholders=False,
        keep_all_tokens=True,
        transformer=ToAst(),
        lexer_callbacks={"UNCLOSED_COMMENT": _unclosed_comment},
        # Keywords (`"is"i`) and names are ASCII: case-insensitive only among ASCII letters,
        # so the Unicode case-folding look-alikes `ı`, `ſ`, `K` (Kelvin) and `İ` match no
        # keyword and no name (they are unexpected characters, Q100).
        g_regex_flags=re.ASCII,
        strict=strict,
        # The analysed grammar is cached in the temp dir (keyed by grammar text, options and
        # lark version): a new process loads it in a fraction of the build time.
        cache=not strict,
        _plugins={"ContextualLexer": QueryLexer},
    )


_PARSER: Lark | None = None
_PARSER_LOCK = threading.Lock()


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        with _PARSER_LOCK:
            if _PARSER is None:
                _PARSER = build_parser()
    return _PARSER


_FAST_PARSER: FastParser | None = None


def _fast_parser() -> FastParser:
    global _FAST_PARSER
    if _FAST_PARSER is None:
        fast = FastParser(_parser())
        _FAST_PARSER = fast
    return _FAST_PARSER


def parse(text: str, *, max_length: int = DEFAULT_MAX_LENGTH,
          max_depth: int = DEFAULT_MAX_DEPTH) -> ast.Expr:
    """Parse one query. Raises `QuerySyntaxError` holding every diagnostic found."""
    result = parse_with_diagnostics(text, max_length=max_length, max_depth=max_depth)
    if result.ast is None or has_errors(result.diagnostics):
        raise QuerySyntaxError(result.diagnostics, text)
    return result.ast


def parse_with_diagnostics(text: str, *, max_length: int = DEFAULT_MAX_LENGTH,
                           max_depth: int = DEFAULT_MAX_DEPTH) -> ParseResult:
    """Parse one query, collecting diagnostics instead of raising, for any input string."""
    if not isinstance(text, str):
        raise TypeError(f"a query is a str, not {type(text).__name__}")
    if len(text) > max_length:
        return ParseResult(None, [_too_long(text, max_length)])
    state = ParseState(text)
    reset = CURRENT.set(state)
    node: ast.Expr | None = None
    try:
        node = cast("ast.Expr", _fast_parser().parse(text, state))
    except Exception:
        # A syntax error (or a bug): lark parses the text again and explains what it finds.
        state.diagnostics.clear()
        state.tokens.clear()
        state.big_integers.clear()
        node = _lark_parse(text, state)
    finally:
        CURRENT.reset(reset)
    return _finish(state, node, max_depth)


def _lark_parse(text: str, state: ParseState) -> ast.Expr | None:
    """The tree for `text` by lark's own parser, or None with the syntax errors in `state`
    (`CURRENT` is `state`)."""
    node: ast.Expr | None = None
    try:
        node = cast("ast.Expr", _parser().parse(text))  # built by the inline transformer
    except UnexpectedInput as error:
        token = getattr(error, "token", None)
        if not (_ends_in_comment(state) and token is not None and token.type == "$END"):
            # (an unterminated comment already explains why the query ends early)
            state.diagnostics.extend(_diagnose(error, state))
    except LarkError as error:  # pragma: no cover - lark raises UnexpectedInput for input
        state.error("Q101", state.span(0, len(text)), f"this query does not parse: {error}")
    except Exception as error:  # pragma: no cover - a parser bug must not crash a request
        state.error(
            "Q101", state.span(0, len(text)),
            f"internal parser error ({type(error).__name__}); please report this query",
        )
    return node


def _finish(state: ParseState, node: ast.Expr | None, max_depth: int) -> ParseResult:
    """The result of a parse: the deferred diagnostics and the depth limits applied."""
    for span in state.big_integers.values():
        state.error(
            "Q108", span, "integer literal is outside the 64-bit range",
            help="integers run from -9223372036854775808 to 9223372036854775807; use a "
            "decimal (with a point) for larger exact numbers",
        )
    too_deep = _brackets_too_deep(state, max_depth)
    if too_deep is not None:
        state.diagnostics.append(too_deep)
        node = None
    # Every node owns at least one token of its own (the `let` block aside), so a tree
    # cannot be deeper than the number of tokens plus one: short queries skip the walk.
    if node is not None and len(state.tokens) + 1 > max_depth:
        deep = _too_deep(node, max_depth)
        if deep is not None:
            state.diagnostics.append(deep)
            node = None
    return ParseResult(node, sort_diagnostics(state.diagnostics))


def _diagnose(error: UnexpectedInput, state: ParseState) -> list[Diagnostic]:
    try:
        return diagnose(error, state)
    except Exception as bug:  # pragma: no cover - the message mapping must not crash either
        where = getattr(error, "pos_in_stream", None) or 0
        return [Diagnostic(
            "Q101", Severity.ERROR,
            f"internal error while describing a syntax error ({type(bug).__name__})",
            state.span(where, where),
        )]


def _ends_in_comment(state: ParseState) -> bool:
    return any(d.code == "Q115" for d in state.diagnostics)


def _too_long(text: str, max_length: int) -> Diagnostic:
    return Diagnostic(
        "Q150", Severity.ERROR,
        f"the query is {len(text)} characters long; the limit is {max_length}",
        Span.from_offsets(text, max_length, len(text)),
        help="split the rule, or move long lists into context attributes",
    )


def _brackets_too_deep(state: ParseState, max_depth: int) -> Diagnostic | None:
    """The first bracket opened more than `max_depth` levels deep (parentheses leave no
    node behind, so the tree's depth alone would not see them)."""
    depth = 0
    for token in state.tokens:
        if token.type in ("LPAR", "LSQB"):
            depth += 1
            if depth > max_depth:
                return Diagnostic(
                    "Q151", Severity.ERROR,
                    f"brackets are nested more than {max_depth} levels deep",
                    state.span(token.start_pos or 0, token.end_pos or 0),
                    help="flatten the expression, e.g. with 'let' declarations",
                )
        elif token.type in ("RPAR", "RSQB"):
            depth = max(0, depth - 1)
    return None


def _too_deep(node: ast.Node, max_depth: int) -> Diagnostic | None:
    """The first node deeper than `max_depth` (depth of the syntax tree), found iteratively."""
    stack: list[tuple[ast.Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > max_depth:
            return Diagnostic(
                "Q151", Severity.ERROR,
                f"the query is nested more than {max_depth} levels deep",
                current.span,
                help="flatten the expression, e.g. with 'let' declarations",
            )
        stack.extend((child, depth + 1) for child in current.children())
    return None


def expected_tokens(prefix: str) -> frozenset[str]:
    """The grammar's terminal names that may come next after `prefix`.

    The prefix is lexed completely (a word at its very end counts as a whole token) and fed
    to the LALR parser; the result is every terminal the parser would shift next, after any
    reductions, e.g. `{"IS", "POSS", "DOT", ...}` after `user`. Keywords are named by their
    upper-cased word (`IS`, `EQUAL`); `NAME`, `INT`, `DQ_STRING`, ... are token classes;
    `MACRO_OF`, `NUMBER_OF`, `OR_ELSE` are the two-word `count of`..., `number of`, `or else`;
    `CRIT_AND`/`CRIT_OR`/`CRIT_COMMA` are `and`/`or`/`,` joining another event criterion;
    `$END` means the query may end here. `terminal_text(name)` gives the words to insert.
    When the prefix ends in `and`/`or`/`,` inside event criteria, both readings count: what
    may start another criterion and what may follow the expression-level `and`. A prefix
    that does not lex or parse gives the empty set.
    """
    from segmentql.syntax.lexer import CRITERIA_JOINS

    state = ParseState(prefix)
    reset = CURRENT.set(state)
    found: set[str] = set()
    try:
        with contextlib.suppress(LarkError):  # `x,` may only read as a criteria join
            interactive = _parser().parse_interactive(prefix)
            interactive.exhaust_lexer()
            found = _accepted(interactive.parser_state)
        last = state.tokens[-1] if state.tokens else None
        if last is not None and last.type in CRITERIA_JOINS:
            with contextlib.suppress(LarkError):
                found |= _accepted_after_criteria_join(prefix, last)
        return frozenset(found)
    finally:
        CURRENT.reset(reset)


def _accepted(parser_state: Any) -> set[str]:
    from segmentql.syntax.lexer import parser_accepts

    candidates = parser_state.parse_conf.states[parser_state.position]
    return {
        name for name in candidates
        if name.isupper() and parser_accepts(parser_state, name)
    }


def _accepted_after_criteria_join(prefix: str, last: Any) -> set[str]:
    """What may follow `last` (`and`, `or`, `,`) read as a criteria join, if it can be one."""
    from lark import Token

    from segmentql.syntax.lexer import CRITERIA_JOINS, parser_accepts

    interactive = _parser().parse_interactive(prefix[:last.start_pos])
    interactive.exhaust_lexer()
    join = CRITERIA_JOINS[last.type]
    if not parser_accepts(interactive.parser_state, join):
        return set()
    interactive.feed_token(Token.new_borrow_pos(join, last.value, last))
    return _accepted(interactive.parser_state)


_MULTI_WORD_TERMINALS: dict[str, tuple[str, ...]] = {
    "MACRO_OF": ("count of", "sum of", "minimum of", "min of", "maximum of", "max of",
                 "average of", "first of", "last of", "keys of", "values of"),
    "NUMBER_OF": ("number of",),
    "OR_ELSE": ("or else",),
    "POSS": ("'s",),
    "SPOSS": ("'",),
    "CRIT_AND": ("and",),
    "CRIT_OR": ("or",),
    "CRIT_COMMA": (",",),
}


def terminal_text(name: str) -> tuple[str, ...]:
    """The text a terminal from `expected_tokens` stands for, lower-case (`"IS"` → `("is",)`,
    `"MACRO_OF"` → `("count of", "sum of", ...)`); empty for token classes such as `NAME`,
    `INT`, `DQ_STRING` or `$END`, whose text is the user's."""
    if name in _MULTI_WORD_TERMINALS:
        return _MULTI_WORD_TERMINALS[name]
    for terminal in _parser().terminals:
        if terminal.name == name:
            pattern = terminal.pattern
            if type(pattern).__name__ == "PatternStr":
                return (str(pattern.value),)
            return ()
    return ()
