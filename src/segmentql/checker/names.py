"""Finding the exact span of a name inside a node, so diagnostics underline `emial` rather
than the whole `user's emial` (the AST keeps one span per node)."""

from __future__ import annotations

import re

from segmentql.diagnostics import NO_SPAN, Span
from segmentql.syntax import ast


class NameSpans:
    """Spans of names in the source a query was parsed from (node spans without it)."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def _find(self, name: str, start: int, end: int, *, last: bool = False) -> Span | None:
        source = self.source
        if source is None or not name or end <= start:
            return None
        pattern = re.compile(
            r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", re.IGNORECASE
        )
        matches = list(pattern.finditer(source, start, end))
        if not matches:
            return None
        found = matches[-1] if last else matches[0]
        return Span.from_offsets(source, found.start(), found.end())

    def _usable(self, node: ast.Node) -> bool:
        return self.source is not None and node.span != NO_SPAN and node.span.end > 0

    def attribute(self, node: ast.Attribute) -> Span:
        """`emial` in `user's emial`, `user.emial` or `property emial of user`."""
        if not self._usable(node):
            return node.span
        target = node.target.span
        if target.end <= node.span.end and target.start >= node.span.start \
                and target != NO_SPAN:
            found = self._find(node.name, target.end, node.span.end) or self._find(
                node.name, node.span.start, target.start)
        else:
            found = self._find(node.name, node.span.start, node.span.end, last=True)
        return found or node.span

    def call(self, node: ast.Call) -> Span:
        if not self._usable(node):
            return node.span
        return self._find(node.function, node.span.start, node.span.end) or node.span

    def word(self, node: ast.Node, name: str, *, last: bool = False) -> Span:
        if not self._usable(node):
            return node.span
        return self._find(name, node.span.start, node.span.end, last=last) or node.span

    def binding(self, node: ast.Node) -> Span:
        """The name in `let name = ...` (or of a quantifier item/parameter)."""
        name = getattr(node, "name", None)
        if not isinstance(name, str) or not self._usable(node):
            return node.span
        source = self.source or ""
        start = node.span.start
        # The binding's span may start at its name or at `let`; skip a leading `let`.
        if source[start:start + 3].casefold() == "let" and name.casefold() != "let":
            start += 3
        return self._find(name, start, node.span.end) or node.span

    def criterion(self, node: ast.Criterion) -> Span:
        if not node.path or not self._usable(node):
            return node.span
        return self._find(node.path[0], node.span.start, node.span.end) or node.span
