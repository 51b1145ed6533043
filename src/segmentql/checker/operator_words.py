"""'Did you mean' for operators mistyped as words (`user's plan iz "pro"`).

The parser reports these as unexpected tokens (Q101); the checker adds the operator the word
is one slip from, looking at the unexpected word, the word before it, and two-word phrases
(`end with` → `ends with`, `endswith` → `ends with`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from segmentql.diagnostics import Diagnostic, Fix, Span
from segmentql.schema.suggest import did_you_mean, help_for

#: Operator words and phrases of the language, as users write them.
OPERATOR_PHRASES: tuple[str, ...] = (
    "is", "is not", "and", "or", "not", "contains", "includes", "include", "matches",
    "starts with", "ends with", "is between", "between", "is before", "is after", "before",
    "after", "is in", "is like", "is greater than", "is less than", "greater", "less", "than",
    "is equal to", "equal", "is defined", "is known", "is empty", "is at least", "is at most",
    "satisfies", "satisfy", "does not contain", "does not match", "plus", "minus", "times",
    "divided by", "mod", "modulo", "ignoring", "considering", "rounded", "sorted", "without",
    "duplicates", "indexed", "every", "some", "exactly", "least", "most", "otherwise", "else",
)
_WORD = re.compile(r"[A-Za-z]+")
_FOLDED = {p.replace(" ", ""): p for p in OPERATOR_PHRASES}


def suggest_operators(diagnostics: list[Diagnostic], text: str) -> list[Diagnostic]:
    """The parser's diagnostics, with operator suggestions added to unexpected words."""
    return [_with_suggestion(d, text) if d.code == "Q101" and not d.suggestions else d
            for d in diagnostics]


def _with_suggestion(d: Diagnostic, text: str) -> Diagnostic:
    words = [(m.start(), m.group(0)) for m in _WORD.finditer(text)]
    at = next((i for i, (start, _) in enumerate(words) if start == d.span.start), None)
    probes: list[tuple[str, int, int]] = []  # the words, and where they are
    if at is not None:
        start, word = words[at]
        if at + 1 < len(words) and text[start + len(word):words[at + 1][0]].isspace():
            after_start, after = words[at + 1]
            probes.append((f"{word} {after}", start, after_start + len(after)))
        probes.append((word, start, start + len(word)))
    before = [(start, w) for start, w in words if start < d.span.start]
    if before and not _is_attribute_name(text, before[-1][0]):
        probes.append((before[-1][1], before[-1][0], before[-1][0] + len(before[-1][1])))
    for probe, start, end in probes:
        folded = probe.casefold()
        exact = _FOLDED.get(folded.replace(" ", ""))
        if exact is not None:
            if exact != folded:  # `endswith` → `ends with`
                return _attach(d, [exact], text, start, end)
            continue  # a real operator, misplaced: nothing to suggest
        found = did_you_mean(probe, OPERATOR_PHRASES, limit=2)
        found = [f for f in found if abs(len(f) - len(probe)) <= 2
                 and (" " in f or " " not in probe)]  # two words become a phrase
        if found:
            return _attach(d, found, text, start, end)
    if at is not None and len(words[at][1]) <= 3:  # `iz` → `is`: one letter off a short word
        start, word = words[at]
        folded = word.casefold()
        short = [p for p in OPERATOR_PHRASES if len(p) == len(folded)
                 and sum(a != b for a, b in zip(p, folded, strict=True)) == 1][:2]
        if short:
            return _attach(d, short, text, start, start + len(word))
    return d


def _attach(d: Diagnostic, suggestions: list[str], text: str, start: int, end: int) -> Diagnostic:
    hint = help_for(suggestions)
    span = Span.from_offsets(text, start, end)
    fixes = tuple(Fix(f"Replace `{text[start:end]}` with `{s}`", span, s) for s in suggestions)
    return replace(d, suggestions=tuple(suggestions), fixes=fixes,
                   help=f"{d.help}; {hint}" if d.help else hint)


def _is_attribute_name(text: str, start: int) -> bool:
    """Whether the word at `start` follows `'s`, `'` or `.` (an attribute, not an operator)."""
    head = text[:start].rstrip()
    return head.endswith(("'s", "'", ".", "’s"))
