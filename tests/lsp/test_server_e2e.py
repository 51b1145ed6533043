"""End to end: `python -m segmentql lsp` in a subprocess, driven over stdio by pytest-lsp."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCHEMA = """\
extends: default
custom:
  user:
    plan:
      enum: [free, pro]
      description: The billing plan.
    score:
      type: integer
      description: Lead score.
"""

#: An emoji (2 UTF-16 units) and an accented letter (1 unit) before the mistake.
QUERY = 'user\'s firstName is "😀é" and user\'s scor > 1\n'

AUDIENCES = """\
audiences:
  pro: user's plan is "pro"
  broken: "user's plan is \\"gold\\""
  folded: >-
    user's score is at least 10
    and user's plna is defined
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "segmentql.schema.yaml").write_text(SCHEMA, encoding="utf-8")
    return root


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "segmentql", "lsp"]),
)
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=workspace.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, uri: str, text: str, language: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                                 text=text)
        )
    )
    await _until(lambda: uri in client.diagnostics, "no diagnostics after opening")


async def _until(condition: Callable[[], bool], failure: str, seconds: float = 30) -> None:
    """Poll until `condition()` holds: notifications for several documents may arrive in
    one batch, so waiting for "the next one" can miss the one a test is about."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, failure
        await asyncio.sleep(0.02)


def _position(uri: str, line: int, character: int) -> types.TextDocumentPositionParams:
    return types.TextDocumentPositionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
    )


async def test_diagnostics_have_utf16_ranges(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "q.segmentql").as_uri()
    await _open(client, uri, QUERY, "segmentql")
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.code == "Q202"
    assert diagnostic.source == "segmentql"
    # `scor` starts at code point 35; the emoji counts twice in UTF-16.
    start = QUERY.index("scor")
    assert diagnostic.range == types.Range(
        start=types.Position(line=0, character=start + 1),
        end=types.Position(line=0, character=start + 5),
    )
    assert "did you mean `score`" in diagnostic.message


async def test_completion_after_possessive_lists_schema_attributes(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "c.segmentql").as_uri()
    text = "user's "
    await _open(client, uri, text, "segmentql")
    params = _position(uri, 0, len(text))
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=params.text_document, position=params.position)
    )
    assert isinstance(result, types.CompletionList)
    labels = {item.label for item in result.items}
    assert {"plan", "score", "firstName", "address"} <= labels
    plan = next(item for item in result.items if item.label == "plan")
    assert plan.kind == types.CompletionItemKind.Field
    assert plan.detail == 'string (one of "free", "pro")'


async def test_hover_shows_type_and_description(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "h.segmentql").as_uri()
    text = 'user\'s plan is "pro"'
    await _open(client, uri, text, "segmentql")
    params = _position(uri, 0, 8)
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=params.text_document, position=params.position)
    )
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert "user.custom.plan" in hover.contents.value or "user.plan" in hover.contents.value
    assert "The billing plan." in hover.contents.value
    assert hover.range == types.Range(types.Position(0, 0), types.Position(0, 11))


async def test_formatting_rewrites_the_document(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "f.segmentql").as_uri()
    text = 'user.plan   IS  "pro" &&  user.score>1\n'
    await _open(client, uri, text, "segmentql")
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            options=types.FormattingOptions(tab_size=4, insert_spaces=True),
        )
    )
    assert edits is not None
    [edit] = edits
    assert edit.range.start == types.Position(0, 0)
    assert edit.new_text == 'user\'s plan is "pro" and user\'s score > 1\n'


async def test_audience_file_diagnostics_point_into_the_yaml(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "site.audiences.yaml").as_uri()
    await _open(client, uri, AUDIENCES, "yaml")
    found = sorted(client.diagnostics[uri], key=lambda d: (d.range.start.line, d.code or ""))
    by_code = {d.code: d for d in found}
    lines = AUDIENCES.splitlines()
    gold = by_code["Q207"]
    assert gold.range.start.line == 2
    # Inside the double-quoted scalar: `\"gold\"` starts at the backslash.
    assert gold.range.start.character == lines[2].index('\\"gold')
    assert "(in broken)" in gold.message
    typo = by_code["Q202"]
    assert typo.range.start.line == 5
    assert typo.range.start.character == lines[5].index("plna")
    assert typo.range.end.character == lines[5].index("plna") + 4


async def test_diagnostics_follow_edits_and_settings(
    client: LanguageClient, workspace: Path
) -> None:
    uri = (workspace / "edit.segmentql").as_uri()
    await _open(client, uri, "user's plan is", "segmentql")
    [syntax] = client.diagnostics[uri]
    assert syntax.code == "Q114"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(0, 14), types.Position(0, 14)),
                    text=' "pro"',
                )
            ],
        )
    )
    await _until(lambda: list(client.diagnostics[uri]) == [], "the edit was not re-checked")
    # A schema setting that points nowhere: a warning, and the default catalog meanwhile.
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"segmentql": {"schemaPath": "nope.yaml"}})
    )
    # Every open document is re-checked; poll for this one's warning rather than catch one
    # particular notification (several documents publish at once, in any order).
    await _until(
        lambda: any("nope.yaml" in d.message for d in client.diagnostics[uri]),
        "no re-check after the settings change",
    )
    [warning] = client.diagnostics[uri]
    assert warning.severity == types.DiagnosticSeverity.Warning
    assert "schema file not found" in warning.message
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"segmentql": {}})
    )
