"""Queries found in audience files, and their offsets mapped back into the file."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentql.lsp.documents import is_audience_file, read_audience_document
from segmentql.testing.strategies import queries


def _file_text(text: str, query_name: str) -> str:
    """The file characters each query code point maps to, joined."""
    document = read_audience_document(text)
    query = next(q for q in document.queries if q.name == query_name)
    return "".join(text[query.to_file(i)] for i in range(len(query.text)))


def test_plain_single_and_double_quoted_scalars_map_exactly() -> None:
    text = (
        "audiences:\n"
        "  plain: user's plan is \"pro\"\n"
        "  single: 'it''s \"x\"'\n"
        '  double: "user\'s city is \\"Zoë\\" \\u00e9"\n'
    )
    document = read_audience_document(text)
    assert [q.name for q in document.queries] == ["plain", "single", "double"]
    assert _file_text(text, "plain") == "user's plan is \"pro\""
    # `''` maps to its first quote.
    assert _file_text(text, "single") == "it's \"x\""
    double = next(q for q in document.queries if q.name == "double")
    assert double.text == 'user\'s city is "Zoë" é'
    # Each escape maps to its backslash.
    assert text[double.to_file(double.text.index('"'))] == "\\"
    assert text[double.to_file(double.text.index("é"))] == "\\"
    assert text[double.to_file(double.text.index("Z"))] == "Z"


def test_multi_line_plain_and_block_scalars() -> None:
    text = (
        "audiences:\n"
        "  folded_plain: user's plan is \"pro\"\n"
        "    and user is returning\n"
        "  literal: |\n"
        "    user's plan is \"pro\"\n"
        "      and user is returning\n"
        "  folded: >-\n"
        "    user's plan\n"
        "    is \"pro\"\n"
        "  nested:\n"
        "    query: user is anonymous\n"
    )
    document = read_audience_document(text)
    queries = {q.name: q for q in document.queries}
    assert queries["folded_plain"].text == 'user\'s plan is "pro" and user is returning'
    assert queries["literal"].text == 'user\'s plan is "pro"\n  and user is returning\n'
    assert queries["folded"].text == 'user\'s plan is "pro"'
    assert queries["nested"].text == "user is anonymous"
    for name in ("folded_plain", "literal", "folded"):
        query = queries[name]
        returning = query.text.find("returning")
        if returning >= 0:
            at = query.to_file(returning)
            assert text[at:at + len("returning")] == "returning"
        pro = query.to_file(query.text.index('"pro"'))
        assert text[pro:pro + 5] == '"pro"'


def test_from_file_finds_the_query_offset() -> None:
    text = "audiences:\n  a: user's plan is \"pro\"\n  b: user is anonymous\n"
    document = read_audience_document(text)
    b = document.queries[1]
    at = text.index("anonymous")
    assert b.from_file(at) == b.text.index("anonymous")
    assert b.from_file(text.index("plan")) is None


def test_cases_queries_and_schema_entry() -> None:
    text = (
        "schema: shop.schema.yaml\n"
        "audiences:\n  pro: user's plan is \"pro\"\n"
        "cases:\n  - name: inline\n    query: user is returning\n    expect: true\n"
    )
    document = read_audience_document(text)
    assert [q.name for q in document.queries] == ["pro", "case inline"]
    assert document.schema == "shop.schema.yaml"


def test_top_level_named_queries_and_json() -> None:
    data = {"description": "x", "pro": 'user\'s city is "Zoë 😀"', "anon": "user is anonymous"}
    text = json.dumps(data, ensure_ascii=False, indent=2)
    document = read_audience_document(text)
    assert [q.name for q in document.queries] == ["pro", "anon"]
    # JSON escapes (`\"`) map to their backslash.
    assert _file_text(text, "pro") == data["pro"].replace('"', "\\")


def test_yaml_errors_become_problems() -> None:
    text = "audiences:\n  a: [unclosed\n"
    document = read_audience_document(text)
    assert document.queries == ()
    [problem] = document.problems
    assert problem.message.startswith("invalid YAML")
    assert text.count("\n", 0, problem.start) >= 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("file:///w/site.audiences.yaml", True),
        ("file:///w/test_x.audience.yml", True),
        ("shop.audiences.json", True),
        ("file:///w/config.yaml", False),
        ("q.segmentql", False),
    ],
)
def test_is_audience_file(name: str, expected: bool) -> None:
    assert is_audience_file(name) is expected


STYLES = [None, "'", '"', "|", ">"]


@settings(max_examples=60, deadline=None)
@given(queries(max_leaves=4), st.sampled_from(STYLES), st.integers(20, 80))
def test_generated_queries_map_back_in_every_yaml_style(
    query: str, style: str | None, width: int
) -> None:
    text = yaml.dump({"audiences": {"q": query}}, default_style=style, width=width,
                     allow_unicode=True)
    [embedded] = read_audience_document(text).queries
    assert embedded.text == query
    offsets = embedded.offsets
    assert list(offsets) == sorted(offsets)
    assert len(set(offsets)) == len(offsets), "every code point has its own file offset"
    for index, char in enumerate(query):
        found = text[embedded.to_file(index)]
        # A character is itself in the file, or the start of its escape, or a folded break.
        assert found == char or found in "\\'\n" or char in " \n", (index, char, found)


def test_json_surrogate_pair_escapes_are_one_character() -> None:
    text = json.dumps({"a": 'user\'s city is "😀" and user is anonymous'})  # ASCII escapes
    [query] = read_audience_document(text).queries
    assert query.text == 'user\'s city is "😀" and user is anonymous'
    assert text[query.to_file(query.text.index("😀")):].startswith("\\ud83d\\ude00")
    assert text[query.to_file(query.text.index("and"))] == "a"


def test_formatting_audience_files_in_place() -> None:
    from segmentql.lsp.documents import format_audience_document
    from segmentql.lsp.features import format_text

    text = (
        "# comment kept\n"
        "audiences:\n"
        "  plain: user.plan   IS  \"pro\"\n"
        "  single: 'user.plan is \"x\"  &&  user.score>1'\n"
        '  double: "user.city is \\"Zoë 😀\\""\n'
        "  literal: |\n"
        "    user.plan is \"pro\"\n"
        "      &&  user.score>3\n"
        "  folded: >-\n"
        "    user.score  is 1\n"
        "  broken: user is\n"
        "  colon: 'user.tags contains [\"a\": 1]'\n"
    )
    formatted = format_audience_document(text, format_text)
    assert formatted == (
        "# comment kept\n"
        "audiences:\n"
        "  plain: user's plan is \"pro\"\n"
        "  single: 'user''s plan is \"x\" and user''s score > 1'\n"
        '  double: "user\'s city is \\"Zoë 😀\\""\n'
        "  literal: |\n"
        "    user's plan is \"pro\" and user's score > 3\n"
        "  folded: |-\n"
        "    user's score is 1\n"
        "  broken: user is\n"
        "  colon: 'user''s tags contains [\"a\": 1]'\n"
    )
    assert format_audience_document(formatted, format_text) == formatted
    assert format_audience_document("a: [unclosed\n", format_text) == "a: [unclosed\n"
