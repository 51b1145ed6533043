"""Quick fixes end to end: `python -m segmentql lsp` over stdio, code actions applied."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from segmentql.lsp.positions import LineIndex

pytestmark = pytest.mark.asyncio(loop_scope="module")

SCHEMA = """\
extends: default
custom:
  user:
    tier:
      enum: [free, plus, pro]
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("actions")
    (root / "segmentql.schema.yaml").write_text(SCHEMA, encoding="utf-8")
    return root


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "segmentql", "lsp"]),
)
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=workspace.as_uri()))
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, uri: str, text: str, language: str) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                             text=text)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while uri not in client.diagnostics:
        assert loop.time() < deadline, "no diagnostics after opening"
        await asyncio.sleep(0.02)


async def _actions(client: LanguageClient, uri: str, text: str) -> list[types.CodeAction]:
    end = LineIndex(text, "utf-16").position(len(text))
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(0, 0), types.Position(*end)),
        context=types.CodeActionContext(diagnostics=[]),
    ))
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def _apply(text: str, action: types.CodeAction) -> str:
    assert action.edit is not None and action.edit.changes is not None
    [edits] = action.edit.changes.values()
    index = LineIndex(text, "utf-16")
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start = index.offset(edit.range.start.line, edit.range.start.character)
        end = index.offset(edit.range.end.line, edit.range.end.character)
        text = text[:start] + edit.new_text + text[end:]
    return text


async def test_quick_fixes_in_a_query_file(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "q.segmentql").as_uri()
    text = 'user\'s tier in ["free", "plus"] and user\'s emial ends with "@acme.com"\n'
    await _open(client, uri, text, "segmentql")
    actions = await _actions(client, uri, text)
    titles = [a.title for a in actions]
    assert "Replace `in` with `is in` (Q124)" in titles
    [fix] = [a for a in actions if "Q124" in a.title]
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert fix.diagnostics and fix.diagnostics[0].code == "Q124"
    fixed = _apply(text, fix)
    assert fixed.startswith('user\'s tier is in ["free", "plus"]')
    # the query parses now; the misspelled attribute is next, with its own fix
    uri2 = (workspace / "q2.segmentql").as_uri()
    await _open(client, uri2, fixed, "segmentql")
    [email] = [a for a in await _actions(client, uri2, fixed) if "Q202" in a.title]
    assert email.title == "Replace with `email` (Q202)"
    assert _apply(fixed, email) == (
        'user\'s tier is in ["free", "plus"] and user\'s email ends with "@acme.com"\n')


async def test_quick_fixes_inside_yaml_scalars(client: LanguageClient, workspace: Path) -> None:
    uri = (workspace / "a.audiences.yaml").as_uri()
    text = (
        "audiences:\n"
        "  quoted: \"user's tier is \\\"Plus\\\"\"\n"
        "  bare: user's tier is plus\n"
        "  block: |\n"
        "    user has viewed a page with url contains \"pricing\"\n"
    )
    await _open(client, uri, text, "yaml")
    actions = await _actions(client, uri, text)
    by_code = {a.title.rsplit("(", 1)[1].rstrip(")"): a for a in actions if a.is_preferred}
    assert set(by_code) >= {"Q207", "Q106", "Q125"}
    fixed = text
    for code in ("Q125", "Q106", "Q207"):  # bottom up: earlier edits keep later positions
        fixed = _apply(fixed, by_code[code])
    assert fixed == (
        "audiences:\n"
        "  quoted: \"user's tier is \\\"plus\\\"\"\n"
        "  bare: user's tier is \"plus\"\n"
        "  block: |\n"
        "    user has viewed a page with url containing \"pricing\"\n"
    )
    from segmentql.lsp.documents import read_audience_document

    queries = {q.name: q.text for q in read_audience_document(fixed).queries}
    assert queries["quoted"] == 'user\'s tier is "plus"'
