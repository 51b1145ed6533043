"""The grammar itself: conflict-free LALR(1), loaded from the package, documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmentql.grammar import GRAMMAR_FILE, grammar_text
from segmentql.syntax.parser import RESERVED_WORDS, build_parser, expected_tokens, parse

ROOT = Path(__file__).resolve().parents[2]


def test_strict_build_has_no_conflicts_or_collisions() -> None:
    pytest.importorskip("interegular")
    parser = build_parser(strict=True)  # raises GrammarError/LexError on any conflict
    assert parser.options.parser == "lalr"
    assert parser.options.lexer == "contextual"


def test_grammar_ships_inside_the_package() -> None:
    import segmentql.grammar

    assert segmentql.grammar.__file__ is not None
    path = Path(segmentql.grammar.__file__).with_name(GRAMMAR_FILE)
    assert path.read_text(encoding="utf-8") == grammar_text()
    assert "start: expr" in grammar_text()


def test_editable_install_loads_the_source_grammar() -> None:
    import segmentql.grammar

    source = ROOT / "src" / "segmentql" / "grammar" / GRAMMAR_FILE
    installed = Path(segmentql.grammar.__file__).with_name(GRAMMAR_FILE)
    if installed.resolve() != source.resolve():
        pytest.skip("segmentql is not installed editable from this checkout")
    assert parse("user's plan is 'pro'") is not None


def test_readme_lists_the_reserved_words() -> None:
    readme = (ROOT / "grammar" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Reserved words", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([a-z]+)`", section.split("\n\n", 2)[1]))
    assert listed == set(RESERVED_WORDS)


@pytest.mark.parametrize(
    ("prefix", "included", "excluded"),
    [
        ("", {"NAME", "INT", "NOT", "EVERY", "LET", "MACRO_OF"}, {"$END", "IS"}),
        ("user", {"IS", "POSS", "DOT", "HAS", "AND", "$END"}, {"NAME", "INT"}),
        ("user's plan is ", {"NOT", "EQUAL", "DQ_STRING", "DEFINED", "NAME"}, {"$END"}),
        ("user has viewed a page with url 'a' ", {"CRIT_AND", "CRIT_OR", "AT", "TODAY", "$END"},
         {"IS"}),
        ("x is between 1 ", {"AND"}, {"$END", "CRIT_AND"}),
        ("x rounded ", {"UP", "HALF", "WITH", "$END"}, set()),
        ("'unterminated", set(), {"$END"}),
    ],
)
def test_expected_tokens(prefix: str, included: set[str], excluded: set[str]) -> None:
    found = expected_tokens(prefix)
    assert included <= found, included - found
    assert not (excluded & found)


def test_expected_tokens_after_a_criteria_comma() -> None:
    # `,` here can only join criteria; the look-ahead has no text yet to see a criterion
    assert expected_tokens("user has viewed a page with url 'a',") == {"NAME", "LPAR", "PROPERTY"}


def test_expected_tokens_of_a_bad_prefix_is_empty() -> None:
    assert expected_tokens("x ) (") == frozenset()


def test_terminal_text() -> None:
    from segmentql.syntax.parser import terminal_text

    assert terminal_text("IS") == ("is",)
    assert terminal_text("LPAR") == ("(",)
    assert "count of" in terminal_text("MACRO_OF")
    assert terminal_text("NAME") == () and terminal_text("$END") == ()
    for name in expected_tokens("user's plan is ") | expected_tokens(""):
        if name not in {"NAME", "INT", "DECIMAL", "FLOAT", "DQ_STRING", "SQ_STRING", "REGEX"}:
            assert terminal_text(name), name
