"""Quick fixes: the edits that apply a diagnostic's "did you mean" or suggested rewrite.

The parser attaches its own fixes where it knows the rewrite (`in` → `is in`, typographic
quotes, `contains` in event criteria). This pass adds the rest after checking: one fix per
suggestion, replacing the name the diagnostic is about, and, for a bare word after `is`
(`user's tier is plus`), the quoted string when the word is no known name or is one of the
subject's allowed values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from segmentql.diagnostics import Diagnostic, Fix, Span
from segmentql.schema import Schema
from segmentql.syntax import ast

_NAME_IN_MESSAGE = re.compile(r"`([^`]+)`")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def add_fixes(
    diagnostics: list[Diagnostic],
    source: str,
    schema: Schema,
    root: ast.Node | None,
    types: Mapping[int, Any],
) -> list[Diagnostic]:
    """The diagnostics, each with the fixes its suggestions imply."""
    out: list[Diagnostic] = []
    for d in diagnostics:
        if d.code == "Q106" and root is not None:
            d = _unquoted_word(d, source, schema, root, types)
        if d.suggestions and not d.fixes:
            fixes = _suggestion_fixes(d, source)
            if fixes:
                d = replace(d, fixes=fixes)
        if d.fixes and d.code.startswith("Q1"):
            # a syntax fix is offered only if the parser accepts that place afterwards
            kept = tuple(f for f in d.fixes if _parses_past(d, f, source))
            if kept != d.fixes:
                d = replace(d, fixes=kept)
        out.append(d)
    return out


def _parses_past(d: Diagnostic, fix: Fix, source: str) -> bool:
    """Whether, with `fix` applied, the parser no longer reports `d` where it was."""
    from segmentql.syntax.parser import parse_with_diagnostics

    after = parse_with_diagnostics(fix.apply(source))
    return not any(e.code == d.code and e.span.start == d.span.start for e in after.diagnostics)


def _sub_span(source: str, span: Span, start: int, end: int) -> Span:
    return Span.from_offsets(source, span.start + start, span.start + end)


def _suggestion_fixes(d: Diagnostic, source: str) -> tuple[Fix, ...]:
    written = source[d.span.start:d.span.end]
    if written[:1] in ("'", '"') and written[-1:] == written[:1] and len(written) >= 2:
        # a string literal (`"Male"` outside an enum): the suggestion is a string too
        quote = written[0]
        return tuple(
            Fix(f"Replace with {quote}{s}{quote}", d.span,
                json.dumps(s, ensure_ascii=False) if quote == '"' else f"'{s}'")
            for s in d.suggestions if quote not in s and "\\" not in s
        )
    target = d.span
    if not _IDENTIFIER.fullmatch(written):
        # the span covers more than the name (`user's emial`): find the name it is about
        # (the message names it in backticks, the owner first: "`x` has no property `y`")
        for name in reversed(_NAME_IN_MESSAGE.findall(d.message)):
            at = written.rfind(name)
            if at >= 0 and _IDENTIFIER.fullmatch(name):
                target = _sub_span(source, d.span, at, at + len(name))
                break
        else:
            return ()
    return tuple(
        Fix(f"Replace with `{s}`", target, s) for s in d.suggestions
        if _IDENTIFIER.fullmatch(s) or " " in s
    )


def _unquoted_word(
    d: Diagnostic, source: str, schema: Schema, root: ast.Node, types: Mapping[int, Any]
) -> Diagnostic:
    """`user's tier is plus`: the quotes were lost. Suggest `"plus"` when `plus` is no
    variable or `let` name, or when it is one of the subject's allowed values."""
    word = source[d.span.start:d.span.end]
    if not _IDENTIFIER.fullmatch(word):
        return d
    subject_enum: tuple[str, ...] = ()
    declared = {v.casefold() for v in schema.variables}
    for node in root.walk():
        if isinstance(node, ast.Let):
            declared.update(b.name.casefold() for b in node.bindings)
        if isinstance(node, ast.Test) and node.args and node.args[0].span == d.span:
            subject_type = types.get(id(node.subject))
            subject_enum = tuple(getattr(subject_type, "enum", None) or ())
    matches = [v for v in subject_enum if v.casefold() == word.casefold()]
    if word.casefold() in declared and not matches:
        return d
    value = matches[0] if matches else word
    literal = json.dumps(value, ensure_ascii=False)
    why = "one of the allowed values" if matches else "no known name"
    return replace(
        d,
        message=f"'is' takes a literal here, and `{word}` is {why}: did you mean the string "
        f"{literal}?",
        help=f"quote it: {literal} (or write 'is equal to' before an expression)",
        suggestions=(literal,),
        fixes=(Fix(f"Replace with {literal}", d.span, literal),),
    )
