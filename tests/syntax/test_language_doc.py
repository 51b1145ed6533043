"""docs/language.md: every `segmentql` example parses, formats idempotently, and its
canonical form parses back to the same AST; the page covers what it promises."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from segmentql.errors import QuerySyntaxError
from segmentql.grammar import grammar_text
from segmentql.syntax import ast
from segmentql.syntax.formatter import RESERVED_WORDS, format_ast, format_query
from segmentql.syntax.parser import parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCK = re.compile(r"^```segmentql\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXAMPLES = [m.group(1) for m in BLOCK.finditer(TEXT)]


def _line_of(example: str) -> int:
    return TEXT[: TEXT.index(example)].count("\n") + 1


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line{_line_of(e)}" for e in EXAMPLES])
def test_example_parses_and_formats_stably(example: str) -> None:
    tree = parse(example)
    canonical = format_ast(tree)
    assert parse(canonical) == tree
    assert format_query(canonical) == canonical


def test_there_are_examples_for_every_section() -> None:
    sections = re.split(r"^## ", TEXT, flags=re.MULTILINE)[1:]
    without = [
        s.splitlines()[0]
        for s in sections
        if "```segmentql" not in s and not s.startswith(("12.", "14.", "Contents"))
    ]
    assert without == []


def _kinds(example: str) -> set[str]:
    return {type(n).__name__ for n in parse(example).walk()}


def test_examples_cover_every_node_type() -> None:
    seen: set[str] = set()
    for example in EXAMPLES:
        seen |= _kinds(example)
    every = {
        name
        for name, cls in vars(ast).items()
        if isinstance(cls, type) and issubclass(cls, ast.Node) and cls is not ast.Node
    }
    # Criteria nodes, bindings and map entries are parts of the nodes that hold them.
    assert every - seen == set()


def test_examples_cover_every_test_and_event_phrase() -> None:
    tests: set[ast.TestOp] = set()
    events: set[ast.EventKind] = set()
    for example in EXAMPLES:
        for node in parse(example).walk():
            if isinstance(node, ast.Test):
                tests.add(node.op)
            if isinstance(node, ast.EventTest):
                events.add(node.event)
    assert set(ast.TestOp) - tests == set()
    # Phrases without a block of their own are in the phrase table with an example each.
    table_examples = re.findall(r"\| `(user has [^`]+)` \|$", TEXT, flags=re.MULTILINE)
    for example in table_examples:
        events |= {n.event for n in parse(example).walk() if isinstance(n, ast.EventTest)}
    assert set(ast.EventKind) - events == set()


def _reserved_by_the_parser() -> set[str]:
    """Grammar keywords that `let WORD = 1; WORD` cannot read back as a name."""
    words = {w.lower() for w in re.findall(r'"([A-Za-z]+)"i', grammar_text())}
    reserved = set()
    for word in words:
        try:
            tree = parse(f"let {word} = 1; {word}")
        except QuerySyntaxError:
            reserved.add(word)
            continue
        assert isinstance(tree, ast.Let)
        if tree.body != ast.Variable(word):
            reserved.add(word)
    return reserved


ENUMS: list[type[enum.Enum]] = [
    ast.DurationUnit, ast.UnaryOp, ast.BinaryOp, ast.CompareOp, ast.TestOp, ast.CompareMode,
    ast.QuantifierKind, ast.MacroOp, ast.Period, ast.CountUnit, ast.CastType, ast.CaseStyle,
    ast.RoundingMode, ast.SortDirection, ast.SortOrder, ast.EventKind, ast.CriterionOp,
    ast.CriteriaJoin, ast.TopicDeterminer, ast.CountOp, ast.WindowKind,
]  # fmt: skip


def _enum_values(value: object) -> Iterator[enum.Enum]:
    if isinstance(value, enum.Enum):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _enum_values(item)


def _criteria_nodes(criteria: ast.Criteria | None) -> Iterator[ast.Node]:
    stack = [criteria] if criteria is not None else []
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.CriteriaGroup):
            stack.extend(node.items)


def test_examples_use_every_word_of_every_enumeration() -> None:
    """Every operator, mode, unit, style, phrase, criterion operator and window has an example
    (the event phrases table counts too)."""
    seen: set[enum.Enum] = set()
    table = re.findall(r"\| `(user has [^`]+)` \|$", TEXT, flags=re.MULTILINE)
    for example in EXAMPLES + table:
        for node in parse(example).walk():
            parts = [node]
            if isinstance(node, ast.EventTest):
                parts += [*_criteria_nodes(node.criteria), node.count, node.window]
            for part in parts:
                if part is None:
                    continue
                for f in fields(part):
                    seen.update(_enum_values(getattr(part, f.name)))
    missing = {e.__name__: [m.value for m in e if m not in seen] for e in ENUMS}
    assert {name: values for name, values in missing.items() if values} == {}


def test_reserved_words_match_the_grammar() -> None:
    section = TEXT[TEXT.index("## 12. Reserved words") : TEXT.index("## 13.")]
    line = next(ln for ln in section.splitlines() if ln.startswith("`and` `at` "))
    listed = set(re.findall(r"`([a-z]+)`", line))
    assert listed == set(RESERVED_WORDS) == _reserved_by_the_parser()


def test_decisions_are_marked() -> None:
    assert TEXT.count("**Decision:**") >= 15
