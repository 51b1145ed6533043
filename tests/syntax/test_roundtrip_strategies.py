"""The AST strategies that drive the round-trip property: they reach every node type and
respect the shapes the grammar can produce."""

from __future__ import annotations

from hypothesis import find, given, settings

from segmentql.syntax import ast
from segmentql.syntax.formatter import RESERVED_WORDS, format_ast, is_identifier
from segmentql.syntax.strategies import expressions, identifiers, literals

NODE_TYPES = sorted(
    (
        cls
        for cls in vars(ast).values()
        if isinstance(cls, type) and issubclass(cls, ast.Node) and cls is not ast.Node
    ),
    key=lambda cls: cls.__name__,
)


def test_expressions_reach_every_node_type() -> None:
    seen: set[type[ast.Node]] = set()

    @settings(max_examples=300, database=None, derandomize=True)
    @given(expressions(max_depth=3))
    def collect(tree: ast.Expr) -> None:
        seen.update(type(n) for n in tree.walk())

    collect()
    # Rare node types (a Lambda lives only inside a `let`) may miss a 300-example sample;
    # prove each of them reachable by searching for one, so the test never depends on luck.
    for cls in [cls for cls in NODE_TYPES if cls not in seen]:
        example = find(
            expressions(max_depth=3),
            lambda tree, wanted=cls: any(type(n) is wanted for n in tree.walk()),
            settings=settings(max_examples=5000, database=None),
        )
        seen.update(type(n) for n in example.walk())
    assert [cls.__name__ for cls in NODE_TYPES if cls not in seen] == []


@given(identifiers())
def test_identifiers_are_bare_names(name: str) -> None:
    assert is_identifier(name)
    assert name.lower() not in RESERVED_WORDS


@given(literals())
def test_literals_are_literals(tree: ast.Expr) -> None:
    assert ast.is_literal(tree)


def _shape_errors(tree: ast.Expr) -> list[str]:
    errors = []
    for node in tree.walk():
        if isinstance(node, ast.Comparison) and not 1 <= len(node.ops) <= 2:
            errors.append("comparison chain")
        if isinstance(node, ast.Comparison) and len(node.operands) != len(node.ops) + 1:
            errors.append("comparison operands")
        if isinstance(node, ast.IntegerLiteral) and not 0 <= node.value < 2**63:
            errors.append("integer range")
        if isinstance(node, ast.Quantifier) and (node.count is None) != (
            node.kind in (ast.QuantifierKind.EVERY, ast.QuantifierKind.SOME, ast.QuantifierKind.NO)
        ):
            errors.append("quantifier count")
    return errors


@given(expressions(max_depth=3))
def test_generated_shapes_are_grammatical(tree: ast.Expr) -> None:
    assert _shape_errors(tree) == []
    text = format_ast(tree)
    assert format_ast(tree) == text  # printing is a pure function of the tree
