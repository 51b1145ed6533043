"""Quick fixes: LSP code actions that apply each diagnostic's `fixes` (the "did you mean"
candidates and suggested rewrites of `segmentql.checker.fixes` and the parser).

In an audience file the edit lands inside the YAML scalar holding the query, written the
way that scalar's style needs (`"` escapes in double-quoted scalars, `''` in single-quoted
ones); a fix that plain YAML cannot hold where it goes is left out rather than corrupting
the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from segmentql.diagnostics import Diagnostic, Fix
from segmentql.lsp import features
from segmentql.lsp.documents import EmbeddedQuery

if TYPE_CHECKING:
    from segmentql.lsp.server import DocumentView


def code_actions(view: DocumentView, wanted: types.Range) -> list[types.CodeAction]:
    """A quick fix for every fix of every diagnostic whose range touches `wanted`."""
    from segmentql.lsp.server import to_lsp

    schema = view.schema.schema
    queries: list[tuple[str, EmbeddedQuery | None]] = []
    if view.audience is None:
        queries.append((view.source, None))
    else:
        queries.extend((q.text, q) for q in view.audience.queries)
    actions: list[types.CodeAction] = []
    for text, query in queries:
        expect = None if query is None else bool
        for diagnostic in features.diagnose(text, schema, expect=expect):
            if not diagnostic.fixes:
                continue
            where = view.file_range(query, diagnostic.span.start, diagnostic.span.end)
            if not _touches(where, wanted):
                continue
            lsp_diagnostic = to_lsp(diagnostic, view, query)
            actions.extend(_actions(view, query, diagnostic, lsp_diagnostic))
    return actions


def _actions(
    view: DocumentView, query: EmbeddedQuery | None, diagnostic: Diagnostic,
    lsp_diagnostic: types.Diagnostic,
) -> list[types.CodeAction]:
    out: list[types.CodeAction] = []
    for index, fix in enumerate(diagnostic.fixes):
        new_text = fix.replacement if query is None else _in_scalar(fix, query)
        if new_text is None:
            continue
        edit = types.TextEdit(_file_range(view, query, fix), new_text)
        out.append(types.CodeAction(
            title=f"{fix.title} ({diagnostic.code})",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[lsp_diagnostic],
            is_preferred=index == 0,
            edit=types.WorkspaceEdit(changes={view.uri: [edit]}),
        ))
    return out


def _file_range(view: DocumentView, query: EmbeddedQuery | None, fix: Fix) -> types.Range:
    """Where the fix goes in the file. A fix reaching the end of a quoted scalar ends at its
    closing quote (the last code point may be an escape, `\\"`, wider than one)."""
    if query is None or fix.span.end < len(query.text) or query.style not in ('"', "'"):
        return view.file_range(query, fix.span.start, fix.span.end)
    return view.range(query.to_file(fix.span.start), query.end - 1)


def _in_scalar(fix: Fix, query: EmbeddedQuery) -> str | None:
    """The replacement as the query's YAML scalar writes it, or None if it cannot."""
    text = fix.replacement
    if query.style == '"':
        return text.replace("\\", "\\\\").replace('"', '\\"')
    if query.style == "'":
        return text.replace("'", "''")
    if query.style is None and (
        "\n" in text or ": " in text or " #" in text
        or (fix.span.start == 0 and text[:1] in "\"'[]{}&*!|>%@`#,?:-")
    ):
        return None
    return text


def _touches(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)
