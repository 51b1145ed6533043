"""A lean LALR driver for well-formed queries, over the tables lark built.

Lark's own loop (`ParserState.feed_token` fed by the contextual lexer's generator) spends
most of a parse in generic machinery: a generator resumed per token, a `LineCounter`, an
assertion that compares rule objects, a wrapper call for every unit reduction of the
precedence chain (`?or_expr: and_expr`, ...). `FastParser` runs the same automaton with the
same lexers, callbacks and criteria-join rule (`syntax.lexer`), so it yields the same tokens,
the same AST (spans included) and the same diagnostics, but with the per-token work inlined.

It only handles the happy path: at the first thing lark would report (an unexpected token or
character, an early end), it raises `Fallback`, and the caller parses again with lark, whose
errors the error reporting is built on (`syntax_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from lark import Lark, Token
from lark.lexer import UnlessCallback
from lark.parse_tree_builder import ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

from segmentql.syntax.lexer import CRITERIA_JOINS, ParseState, looks_like_criterion

__all__ = ["Fallback", "FastParser"]

_BLANKS = frozenset(" \t\r\n\f")

#: Token's constructor minus its deprecated-keyword check (lark's lexer calls the same).
_new_token: Callable[..., Token] = Token._future_new
_borrow = Token.new_borrow_pos

#: A reduction: (number of values popped, rule name for the goto, callback or None when the
#: rule only passes its single child on).
Reduce = tuple[int, str, Callable[[list[Any]], Any] | None]


class Fallback(Exception):
    """The fast path stops here: lark must parse this text (it has a syntax error)."""


#: Texts after a lone space: where every one of these shows a state's lexer reading the
#: space alone as WS, the driver skips lone spaces without asking the lexer.
_SPACE_PROBES = (" a", " 1", ' "', " (", " '", " -", " ~", " [")


class _Scanner:
    """One state's lexer: its regexes and what to do with each terminal it matches."""

    __slots__ = (
        "callbacks", "ignore", "keyword_of", "match", "newline", "skip_spaces", "unless",
    )

    def __init__(self, lexer: Any) -> None:
        patterns = tuple(lexer.scanner._mres)
        self.match: Callable[[str, int], re.Match[str] | None] = (
            patterns[0].match if len(patterns) == 1 else partial(_first_match, patterns)
        )
        self.ignore: frozenset[str] = lexer.ignore_types
        self.newline: frozenset[str] = lexer.newline_types
        callbacks = dict(lexer.callback)
        # The keyword check of a NAME (`UnlessCallback`) depends on the text alone: memoized.
        self.unless: dict[str, UnlessCallback] = {
            name: cb for name, cb in callbacks.items() if type(cb) is UnlessCallback
        }
        self.callbacks: dict[str, Callable[[Token], Token]] = {
            name: cb for name, cb in callbacks.items() if name not in self.unless
        }
        self.keyword_of: dict[tuple[str, str], str] = {}
        #: Whether a space followed by a non-blank is always a lone WS token here, so the
        #: driver may step over it without the regex.
        self.skip_spaces = "WS" in self.ignore and "WS" not in self.callbacks and all(
            (match := self.match(probe, 0)) is not None
            and match.lastgroup == "WS" and match.end() == 1
            for probe in _SPACE_PROBES
        )


def _first_match(
    patterns: tuple[re.Pattern[str], ...], text: str, pos: int
) -> re.Match[str] | None:
    for pattern in patterns:
        match = pattern.match(text, pos)
        if match is not None:
            return match
    return None


class FastParser:
    """The happy-path parser over `lark_parser`'s tables (see module docstring)."""

    def __init__(self, lark_parser: Lark) -> None:
        frontend: Any = lark_parser.parser
        inner = frontend.parser.parser
        table = inner.parse_table
        callbacks = inner.callbacks
        self._start: int = table.start_states["start"]
        self._end: int = table.end_states["start"]
        self._token_callbacks = {
            name: cb for name, cb in callbacks.items() if isinstance(name, str)
        }
        reductions: dict[Any, Reduce] = {}
        # Per state: terminal -> next state (shift, an int) or a reduction (a tuple), and
        # rule name -> next state (goto).
        # (Typed `Any`: the hot loop tells the two apart with `type(action) is int`.)
        self._actions: dict[int, dict[str, Any]] = {}
        for state, row in table.states.items():
            actions: dict[str, Any] = {}
            for name, (kind, arg) in row.items():
                if kind is Shift:
                    actions[name] = arg
                    continue
                reduce = reductions.get(arg)
                if reduce is None:
                    size = len(arg.expansion)
                    callback = callbacks[arg]
                    passthrough = size == 1 and type(callback) is ExpandSingleChild
                    reduce = (size, arg.origin.name, None if passthrough else callback)
                    reductions[arg] = reduce
                actions[name] = reduce
            self._actions[state] = actions
        #: Memo of `_pass_through`: look-ahead -> top * width + below -> state.
        self._chains: dict[str, dict[int, int]] = {}
        self._width = max(self._actions) + 1
        # Scanners are built on first use, as lark builds its lexers' regexes: most states
        # are never visited in a process, and compiling them all would slow the start.
        self._lexers: dict[int, Any] = frontend.lexer.lexers
        self._scanners: dict[int, _Scanner] = {}
        self._scanner_of_lexer: dict[int, _Scanner] = {}

    def _scanner(self, state: int) -> _Scanner:
        lexer = self._lexers[state]
        scanner = self._scanner_of_lexer.get(id(lexer))
        if scanner is None:
            scanner = self._scanner_of_lexer[id(lexer)] = _Scanner(lexer)
        self._scanners[state] = scanner
        return scanner

    def _pass_through(self, top: int, below: int, terminal: str) -> int:
        """The state on top of `below` after every pass-through reduction that `terminal`
        causes in state `top` (the value on top of the stack stays as it is)."""
        actions = self._actions
        while top != self._end:
            action = actions[top].get(terminal)
            if type(action) is not tuple or action[2] is not None:
                break
            top = actions[below][action[1]]
        return top

    def accepts(self, stack: list[int], terminal: str) -> bool:
        """Would the parser shift `terminal` now (after any reductions)? (`parser_accepts`
        on a bare state stack; the stack is not changed.)"""
        actions = self._actions
        if terminal not in actions[stack[-1]]:
            return False  # the usual answer (no event criteria open): no copy needed
        stack = list(stack)
        while True:
            action = actions[stack[-1]].get(terminal)
            if action is None:
                return False
            if type(action) is int:
                return True
            size, origin, _ = action
            if size:
                del stack[-size:]
            stack.append(actions[stack[-1]][origin])
            if stack[-1] == self._end:
                return terminal == "$END"

    def parse(self, text: str, state: ParseState) -> Any:
        """The value of the `start` rule for `text`, tokens appended to `state.tokens`.
        Raises `Fallback` where lark would raise a syntax error."""
        actions = self._actions
        scanners = self._scanners
        token_callbacks = self._token_callbacks
        tokens = state.tokens
        chains = self._chains
        width = self._width
        end = self._end
        stack = [self._start]
        values: list[Any] = []
        length = len(text)
        pos = 0
        line = 1
        line_start = 0
        while True:
            # ---- lex one token with the current state's lexer (lark's `next_token`)
            token: Token | None = None
            scanner = scanners.get(stack[-1]) or self._scanner(stack[-1])
            while pos < length:
                if (
                    scanner.skip_spaces and text[pos] == " " and pos + 1 < length
                    and text[pos + 1] not in _BLANKS
                ):
                    pos += 1  # one space between tokens, the most common ignored text
                    continue
                match = scanner.match(text, pos)
                if match is None:
                    raise Fallback
                value = match.group(0)
                kind: str = match.lastgroup  # type: ignore[assignment]
                start, start_line, column = pos, line, pos - line_start + 1
                pos += len(value)
                if kind in scanner.newline:
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        line_start = start + value.rindex("\n") + 1
                if kind in scanner.ignore:
                    if kind in scanner.callbacks:
                        scanner.callbacks[kind](_new_token(
                            kind, value, start, start_line, column, line,
                            pos - line_start + 1, pos,
                        ))
                    continue
                if kind in scanner.unless:
                    word = (kind, value)
                    retyped = scanner.keyword_of.get(word)
                    if retyped is None:
                        retyped = scanner.unless[kind].scanner.fullmatch(value) or kind
                        scanner.keyword_of[word] = retyped
                    kind = retyped
                token = _new_token(
                    kind, value, start, start_line, column, line, pos - line_start + 1, pos
                )
                if kind in scanner.callbacks:
                    token = scanner.callbacks[kind](token)
                    kind = token.type
                join = CRITERIA_JOINS.get(kind)
                if (
                    join is not None
                    and self.accepts(stack, join)
                    and looks_like_criterion(text, pos)
                ):
                    token = _borrow(join, value, token)
                    kind = join
                tokens.append(token)
                break
            if token is None:
                kind = "$END"
            # ---- feed it (lark's `feed_token`)
            while True:
                action = actions[stack[-1]].get(kind)
                if action is None:
                    raise Fallback
                if type(action) is int:
                    if token is None:
                        raise Fallback  # (lark's tables never shift $END)
                    stack.append(action)
                    values.append(
                        token_callbacks[kind](token) if kind in token_callbacks else token
                    )
                    break
                size, origin, callback = action
                if callback is None:
                    # A run of pass-through reductions (`?or_expr: and_expr`, ...) depends
                    # only on the two top states and the look-ahead: done in one step.
                    top = stack[-1]
                    below = stack[-2]
                    runs = chains.get(kind)
                    if runs is None:
                        runs = chains[kind] = {}
                    key = top * width + below
                    goto = runs.get(key, -1)
                    if goto < 0:
                        goto = runs[key] = self._pass_through(top, below, kind)
                    stack[-1] = goto
                else:
                    if size:
                        children = values[-size:]
                        del stack[-size:]
                        del values[-size:]
                    else:
                        children = []
                    values.append(callback(children))
                    goto = actions[stack[-1]][origin]
                    stack.append(goto)
                if token is None and goto == end:
                    return values[-1]
