"""Spans: every node of every corpus query has a well-formed span that fits its parent."""

from __future__ import annotations

import pytest
from syntax_corpus import label, valid_queries

from segmentql.diagnostics import Span
from segmentql.syntax import ast
from segmentql.syntax.parser import parse

QUERIES = sorted({v.query for v in valid_queries()})


@pytest.mark.parametrize("query", QUERIES, ids=[label(q) for q in QUERIES])
def test_spans_are_consistent(query: str) -> None:
    root = parse(query)
    for node in root.walk():
        span = node.span
        assert 0 <= span.start < span.end <= len(query), (node, span)
        assert span == Span.from_offsets(query, span.start, span.end), node
        assert query[span.start] not in " \t\n", (node, span)
        for child in node.children():
            assert span.start <= child.span.start and child.span.end <= span.end, (node, child)


def test_the_root_covers_the_query_without_comments() -> None:
    query = "/* a */ user's plan is 'pro' // b"
    assert query[parse(query).span.start:parse(query).span.end] == "user's plan is 'pro'"


def test_multi_line_positions() -> None:
    query = "let limit = 10;\nuser's stats'\n  orders > limit"
    node = parse(query)
    assert isinstance(node, ast.Let)
    body = node.body
    assert (body.span.line, body.span.column) == (2, 1)
    assert (body.span.end_line, body.span.end_column) == (3, 17)
    assert query[body.span.start:body.span.end] == "user's stats'\n  orders > limit"


def test_spans_count_code_points() -> None:
    query = "'🎉é' & x"
    node = parse(query)
    assert isinstance(node, ast.Binary)
    assert (node.right.span.start, node.right.span.column) == (7, 8)


def test_parenthesized_nodes_include_the_parentheses() -> None:
    query = "(a + b) * c"
    node = parse(query)
    assert isinstance(node, ast.Binary)
    assert (node.left.span.start, node.left.span.end) == (0, 7)
    assert node.span.start == 0


def _leaves(value: object) -> list[object]:
    return [v for item in value for v in _leaves(item)] if isinstance(value, tuple) else [value]


@pytest.mark.parametrize("query", QUERIES, ids=[label(q) for q in QUERIES])
def test_no_lark_objects_in_the_ast(query: str) -> None:
    from dataclasses import fields

    from lark import Token, Tree

    for node in parse(query).walk():
        for f in fields(node):
            for leaf in _leaves(getattr(node, f.name)):
                assert not isinstance(leaf, Tree | Token), (node, f.name)
                if isinstance(leaf, str):
                    assert type(leaf) is str or isinstance(leaf, ast.enum.Enum), (node, f.name)
