"""The checker never raises on any AST the grammar can produce, and types every node."""

from __future__ import annotations

from hypothesis import given, settings

from segmentql.checker import analyze
from segmentql.diagnostics import Diagnostic
from segmentql.schema import Schema
from segmentql.syntax import ast
from segmentql.syntax.strategies import expressions

SCHEMA = Schema.default().extend({"custom": {"user": {"plan": {"enum": ["free", "pro"]}}}})


@settings(max_examples=100)
@given(expressions(max_depth=4))
def test_analyze_never_raises_and_types_every_expression(tree: ast.Expr) -> None:
    analysis = analyze(tree, SCHEMA, expect=bool)
    assert all(isinstance(d, Diagnostic) for d in analysis.diagnostics)
    assert analysis.type_of(tree) is analysis.result
    for node in tree.walk():
        if isinstance(node, ast.Binding | ast.MapEntry | ast.Criterion | ast.CriteriaGroup
                      | ast.EventCount | ast.EventWindow):
            continue
        assert id(node) in analysis._types, type(node).__name__
