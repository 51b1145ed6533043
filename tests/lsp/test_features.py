"""The editor features as pure functions, and their LSP conversion in the server module."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from segmentql.lsp import features
from segmentql.lsp.documents import read_audience_document
from segmentql.lsp.positions import LineIndex
from segmentql.lsp.server import (
    DocumentView,
    completion_list,
    document_diagnostics,
    formatting_edits,
    hover_result,
)
from segmentql.lsp.workspace import SchemaCache, SchemaChoice
from segmentql.schema import Schema

SCHEMA = Schema.default().extend({
    "custom": {
        "user": {
            "plan": {"enum": ["free", "pro"], "description": "The billing plan."},
            "score": {"type": "integer", "description": "Lead score."},
        },
    },
})


def labels(text: str, offset: int | None = None) -> list[str]:
    at = len(text) if offset is None else offset
    return [c.label for c in features.complete(text, at, SCHEMA)]


# ------------------------------------------------------------------------------ completion


def test_variables_where_an_expression_starts() -> None:
    found = labels("")
    assert {"user", "session", "cart", "location"} <= set(found)
    assert {"user", "session"} <= set(labels('user\'s plan is "pro" and '))


@pytest.mark.parametrize("prefix", ["user's ", "user' ", "user.", "user's sc", "user.pl"])
def test_attributes_after_possessive_or_dot(prefix: str) -> None:
    found = labels(prefix)
    assert {"plan", "score", "firstName", "address"} <= set(found)
    assert "session" not in found


def test_nested_attributes_and_quantifier_items() -> None:
    assert set(labels("user's address's ")) >= {"street", "city", "postalCode"}
    assert "city" not in labels("user's ")
    items = labels("every item in cart's items satisfies item's ")
    assert {"price", "quantity", "name"} <= set(items)


def test_completion_in_the_middle_of_a_query() -> None:
    text = 'user\'s  is "pro"'
    assert "plan" in labels(text, len("user's "))


def test_attribute_completion_detail_and_documentation() -> None:
    [plan] = [c for c in features.complete("user's ", 7, SCHEMA) if c.label == "plan"]
    assert plan.kind == features.FIELD
    assert plan.detail == 'string (one of "free", "pro")'
    assert plan.documentation == "The billing plan."


def test_tests_valid_for_the_operand_type() -> None:
    on_number = labels("user's score ")
    on_string = labels("user's plan ")
    assert {"is greater than", "is between", "is at least", "<="} <= set(on_number)
    assert "starts with" not in on_number
    assert {"starts with", "is like", "matches", "contains", "is in"} <= set(on_string)
    assert "is greater than" not in on_string or "is greater than" in on_number
    on_date = labels("user's birthDate ")
    assert {"is before", "is after"} <= set(on_date)
    assert "is before" not in on_string


def test_after_is_offers_the_rest_of_the_test_and_enum_values() -> None:
    found = labels("user's plan is ")
    assert {"not", "defined", "empty", "like", '"free"', '"pro"'} <= set(found)
    assert "is like" not in found


def test_no_completion_inside_a_broken_prefix() -> None:
    assert labels("user's plan is ) ") == []


# ------------------------------------------------------------------------------ hover


def test_hover_on_attribute_shows_path_type_and_description() -> None:
    info = features.hover('user\'s plan is "pro"', 8, SCHEMA)
    assert info is not None
    assert 'string (one of "free", "pro")' in info.markdown
    assert "The billing plan." in info.markdown
    assert (info.start, info.end) == (0, 11)


def test_hover_on_a_test_shows_boolean() -> None:
    info = features.hover("user's score is at least 3", 14, SCHEMA)
    assert info is not None
    assert "boolean" in info.markdown


def test_hover_on_unparsable_text_is_none() -> None:
    assert features.hover("user's plan is", 3, SCHEMA) is None


# ------------------------------------------------------------------------------ diagnostics, format


def test_diagnostics_come_from_the_checker() -> None:
    [found] = features.diagnose("user's plan is", SCHEMA)
    assert found.code == "Q114"
    assert found.is_error


def test_format_text() -> None:
    assert features.format_text('user.plan  IS "pro"') == 'user\'s plan is "pro"'
    assert features.format_text("user's plan is") is None


# ------------------------------------------------------------------------------ LSP conversion


def view(text: str, *, audience: bool = False, encoding: str = "utf-16") -> DocumentView:
    choice = SchemaChoice(SCHEMA, "test")
    document = read_audience_document(text) if audience else None
    lines = LineIndex(text, encoding)  # type: ignore[arg-type]
    return DocumentView("file:///w/x", text, lines, document, choice)


def test_diagnostic_ranges_in_utf16_after_emoji_and_accents() -> None:
    text = 'user\'s firstName is "é😀" and\n  user\'s scor > 1'
    [diagnostic] = document_diagnostics(view(text))
    assert diagnostic.code == "Q202"
    assert diagnostic.range.start == types.Position(1, 9)
    assert diagnostic.range.end == types.Position(1, 13)
    utf8 = document_diagnostics(view(text.replace("\n  ", " "), encoding="utf-8"))
    start = text.replace("\n  ", " ").index("scor")
    # é is 2 bytes, the emoji 4: 4 more than the code point count.
    assert utf8[0].range.start == types.Position(0, start + 4)


def test_audience_file_diagnostics_and_schema_problem() -> None:
    text = 'audiences:\n  a: "user\'s plan is \\"gold\\""\n  b: user\'s firstName\n'
    found = document_diagnostics(view(text, audience=True))
    codes = sorted(str(d.code) for d in found)
    assert codes == ["Q207", "Q208"]
    q208 = next(d for d in found if d.code == "Q208")
    assert q208.range.start == types.Position(2, 5)
    assert "(in b)" in q208.message


def test_completion_and_hover_inside_an_audience_file() -> None:
    text = "audiences:\n  a: user's \n  b: user's plan is \"pro\"\n"
    doc = view(text, audience=True)
    items = completion_list(doc, types.Position(1, 12)).items
    assert "plan" in {i.label for i in items}
    hover = hover_result(doc, types.Position(2, 12))
    assert hover is not None
    assert hover.range == types.Range(types.Position(2, 5), types.Position(2, 16))
    assert completion_list(doc, types.Position(0, 3)).items == []


def test_formatting_edits() -> None:
    [edit] = formatting_edits(view('user.plan  IS "pro"\n')) or []
    assert edit.new_text == 'user\'s plan is "pro"\n'
    assert edit.range.end == types.Position(1, 0)
    assert formatting_edits(view('user\'s plan is "pro"')) == []
    assert formatting_edits(view("user's plan is")) is None
    assert formatting_edits(view("a: user is anonymous\n", audience=True)) == []
    [audience] = formatting_edits(view("a: user.plan  IS 'x'\n", audience=True)) or []
    assert audience.new_text == "a: user's plan is \"x\"\n"


# ------------------------------------------------------------------------------ workspace schema


def test_schema_discovery(tmp_path: Path) -> None:
    cache = SchemaCache()
    assert cache.choose(str(tmp_path), None).source == "default"
    (tmp_path / "segmentql.schema.yaml").write_text(
        "extends: default\ncustom:\n  user:\n    tier:\n      type: integer\n"
    )
    chosen = cache.choose(str(tmp_path), None)
    assert chosen.problem is None
    assert chosen.schema.type_at("user", ["tier"]) is not None
    other = tmp_path / "other.yaml"
    other.write_text("extends: default\nvariables:\n  shop:\n    fields:\n      id:\n"
                     "        type: string\n")
    assert cache.choose(str(tmp_path), "other.yaml").schema.variable("shop") is not None
    missing = cache.choose(str(tmp_path), "nope.yaml")
    assert missing.source == "default"
    assert missing.problem is not None and "not found" in missing.problem
    (tmp_path / "bad.yaml").write_text("extends: default\nvariables: [\n")
    broken = cache.choose(str(tmp_path), "bad.yaml")
    assert broken.problem is not None and "bad.yaml" in broken.problem


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"segmentql": {"schemaPath": "s.yaml"}}, "s.yaml"),
        ({"schemaPath": "t.yaml"}, "t.yaml"),
        ({"segmentql": {"schemaPath": ""}}, None),
        ({"segmentql": "x"}, None),
        (None, None),
    ],
)
def test_settings_path(options: object, expected: str | None) -> None:
    from segmentql.lsp.server import _settings_path

    assert _settings_path(options) == expected


def test_schema_problem_is_a_warning_at_the_top() -> None:
    choice = SchemaChoice(SCHEMA, "default", "schema file not found: x.yaml")
    text = "user's plan is \"pro\""
    doc = DocumentView("file:///w/q.segmentql", text, LineIndex(text), None, choice)
    [warning] = document_diagnostics(doc)
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert warning.range.start == types.Position(0, 0)
    assert "x.yaml" in warning.message


def test_audience_file_with_its_own_schema(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(
        "extends: default\ncustom:\n  user:\n    tier:\n      enum: [gold]\n"
    )
    text = 'schema: shop.yaml\naudiences:\n  a: user\'s tier is "silver"\n'
    document = read_audience_document(text)
    assert document.schema == "shop.yaml"
    cache = SchemaCache()
    choice = cache.for_audience_file(
        str(tmp_path / "x.audiences.yaml"), document.schema, SchemaChoice(SCHEMA, "default")
    )
    doc = DocumentView("file:///x", text, LineIndex(text), document, choice)
    [found] = document_diagnostics(doc)
    assert found.code == "Q207"
    column = text.splitlines()[2].index('"silver"')
    assert found.range.start == types.Position(2, column)
    assert found.range.end == types.Position(2, column + len('"silver"'))


def test_keywords_where_an_expression_starts() -> None:
    found = {c.label for c in features.complete("", 0, SCHEMA) if c.kind == features.KEYWORD}
    assert {"not", "every", "let", "count of", "true"} <= found
    after_and = features.complete('user\'s plan is "pro" and ', 25, SCHEMA)
    assert "let" not in {c.label for c in after_and}


def test_event_phrases_tails_properties_and_criterion_operators() -> None:
    after_has = labels("user has ")
    assert {"viewed a page", "placed an order", "signed in", "not"} <= set(after_has)
    assert "user" not in after_has
    tails = labels("user has viewed a page ")
    assert {"with", "in the last 7 days", "this session", "at least 2 times"} <= set(tails)
    assert labels("user has viewed a page with ") == ["url", "title", "referrer"]
    assert {"total", "currency", "status"} <= set(labels("user has placed an order with "))
    joined = labels("user has placed an order with total greater than 10 and ")
    assert {"total", "user"} <= set(joined)  # another criterion, or another clause
    on_number = labels("user has placed an order with total ")
    assert {"greater than", "less than"} <= set(on_number)
    assert "starting with" not in on_number
    assert {"like", "starting with"} <= set(labels("user has viewed a page with url "))
    assert "containing all of" in labels("user has viewed a post with tags ")
