"""The pygls server: LSP in and out, everything else in `features`, `documents`, `workspace`.

Documents served:
- `*.segmentql` (or language id `segmentql`): the whole text is one query;
- audience files (`*.audiences.yaml`, `*.audience.yaml`, `.yml`, `.json`): every named query
  (and every case's `query:`) is checked, with diagnostics placed inside the YAML/JSON text.

Settings (`initializationOptions` or `workspace/didChangeConfiguration`, under `segmentql`):
`schemaPath`, the schema file to check against (else `segmentql.schema.yaml` at the root).

Hardening (docs/editor.md, "Limits"): frames are read by `framing.serve_frames` (bounded,
malformed input answered with JSON-RPC errors), error responses carry no traceback, and every
request runs in a worker thread and is answered within `REQUEST_TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from segmentql import __version__
from segmentql.config import LintConfig
from segmentql.diagnostics import Diagnostic, Severity
from segmentql.lsp import actions, features
from segmentql.lsp.documents import (
    AudienceDocument,
    EmbeddedQuery,
    format_audience_document,
    is_audience_file,
    read_audience_document,
)
from segmentql.lsp.framing import (
    BoundedStdinReader,
    BoundedStreamReader,
    SafeProtocol,
    raise_timeout,
    serve_frames,
)
from segmentql.lsp.positions import Encoding, LineIndex
from segmentql.lsp.workspace import SchemaCache, SchemaChoice

LANGUAGE_ID = "segmentql"
SOURCE = "segmentql"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
_KIND = {
    features.VARIABLE: types.CompletionItemKind.Variable,
    features.FIELD: types.CompletionItemKind.Field,
    features.OPERATOR: types.CompletionItemKind.Operator,
    features.KEYWORD: types.CompletionItemKind.Keyword,
    features.VALUE: types.CompletionItemKind.Value,
    features.FUNCTION: types.CompletionItemKind.Function,
}


#: Seconds within which every request is answered (with a RequestFailed error if need be).
REQUEST_TIMEOUT = 5.0

_R = TypeVar("_R")


class SegmentqlServer(LanguageServer):
    """A LanguageServer holding the settings and the schema cache."""

    def __init__(self) -> None:
        super().__init__("segmentql", __version__, protocol_cls=SafeProtocol)
        self.schema_path: str | None = None
        self.schemas = SchemaCache()
        self.request_timeout = REQUEST_TIMEOUT
        self.requests = ThreadPoolExecutor(max_workers=2, thread_name_prefix="segmentql-lsp")

    async def bounded(self, method: str, fn: Callable[[], _R]) -> _R:
        """`fn()` in a worker thread, answered within `request_timeout` seconds."""
        future = asyncio.get_running_loop().run_in_executor(self.requests, fn)
        try:
            return await asyncio.wait_for(future, self.request_timeout)
        except TimeoutError:
            raise_timeout(method, self.request_timeout)
            raise

    # ----------------------------------------------------------------------- transport

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serve over stdio with the bounded frame reader (see `framing`)."""
        from pygls.io_ import StdoutWriter

        self._stop_event = stop = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        reader = BoundedStdinReader(stdin or sys.stdin.buffer)
        try:
            asyncio.run(serve_frames(stop, reader, self.protocol))  # type: ignore[arg-type]
        except (BrokenPipeError, KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    def start_tcp(self, host: str, port: int) -> None:
        """Serve one TCP client at a time with the bounded frame reader."""
        self._stop_event = stop = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await serve_frames(stop, BoundedStreamReader(reader), self.protocol)  # type: ignore[arg-type]

        async def serve() -> None:
            server = await asyncio.start_server(connection, host, port)
            async with server:
                await server.serve_forever()

        try:
            asyncio.run(serve())
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    # ----------------------------------------------------------------------- helpers

    def encoding(self) -> Encoding:
        name = str(self.workspace.position_encoding or "utf-16").lower()
        return name if name in ("utf-8", "utf-32") else "utf-16"  # type: ignore[return-value]

    def lint_settings(self) -> LintConfig:
        """The project configuration's `[lint]` settings (select, ignore)."""
        return self.schemas.lint(self.workspace.root_path)

    def workspace_schema(self) -> SchemaChoice:
        return self.schemas.choose(self.workspace.root_path, self.schema_path)

    def view(self, uri: str) -> DocumentView | None:
        """What the server knows of an open document, or None for files it does not serve
        (or that are not open: the server never reads a document from disk by its URI)."""
        if uri not in self.workspace.text_documents:
            return None
        document = self.workspace.get_text_document(uri)
        source = document.source
        lines = LineIndex(source, self.encoding())
        if uri.endswith(".segmentql") or document.language_id == LANGUAGE_ID:
            return DocumentView(uri, source, lines, None, self.workspace_schema())
        if is_audience_file(uri):
            audience = read_audience_document(source)
            choice = self.workspace_schema()
            if audience.schema is not None:
                choice = self.schemas.for_audience_file(
                    to_fs_path(uri), audience.schema, choice, self.workspace.root_path
                )
            return DocumentView(uri, source, lines, audience, choice)
        return None


@dataclass(frozen=True, slots=True)
class DocumentView:
    uri: str
    source: str
    lines: LineIndex
    #: None for a `.segmentql` document (one query: the whole text).
    audience: AudienceDocument | None
    schema: SchemaChoice

    def range(self, start: int, end: int) -> types.Range:
        (l1, c1), (l2, c2) = self.lines.position(start), self.lines.position(end)
        return types.Range(types.Position(l1, c1), types.Position(l2, c2))

    def offset(self, position: types.Position) -> int:
        return self.lines.offset(position.line, position.character)

    def query_at(self, offset: int) -> tuple[str, int, EmbeddedQuery | None] | None:
        """(query text, offset in it, embedding) of the query under a file offset."""
        if self.audience is None:
            return self.source, offset, None
        for query in self.audience.queries:
            inside = query.from_file(offset)
            if inside is not None:
                return query.text, inside, query
            # YAML drops a plain scalar's trailing spaces: `a: user's |` (cursor after the
            # space) is still that query, with the spaces put back.
            gap = self.source[query.end:offset] if query.end <= offset else "\n"
            if gap and not gap.strip(" \t"):
                return query.text + gap, len(query.text) + len(gap), query
        return None

    def file_range(self, query: EmbeddedQuery | None, start: int, end: int) -> types.Range:
        if query is None:
            return self.range(start, end)
        return self.range(query.to_file(start), query.to_file(end))


def to_lsp(diagnostic: Diagnostic, view: DocumentView, query: EmbeddedQuery | None,
           ) -> types.Diagnostic:
    """A segmentql diagnostic as an LSP one, placed in the file."""
    message = diagnostic.message
    if query is not None:
        message = f"{message} (in {query.name})"
    extra = [*(f"note: {n}" for n in diagnostic.notes)]
    if diagnostic.help:
        extra.append(f"help: {diagnostic.help}")
    if extra:
        message = "\n".join([message, *extra])
    span = diagnostic.span
    return types.Diagnostic(
        range=view.file_range(query, span.start, span.end),
        message=message,
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        source=SOURCE,
    )


def document_diagnostics(view: DocumentView) -> list[types.Diagnostic]:
    """Every diagnostic of a served document, in file positions."""
    out: list[types.Diagnostic] = []
    if view.schema.problem:
        out.append(types.Diagnostic(
            range=view.range(0, 0), message=view.schema.problem,
            severity=types.DiagnosticSeverity.Warning, source=SOURCE,
        ))
    schema = view.schema.schema
    if view.audience is None:
        out.extend(to_lsp(d, view, None) for d in features.diagnose(view.source, schema))
        return out
    for problem in view.audience.problems:
        out.append(types.Diagnostic(
            range=view.range(problem.start, problem.end), message=problem.message,
            severity=types.DiagnosticSeverity.Error, source=SOURCE,
        ))
    for query in view.audience.queries:
        found = features.diagnose(query.text, schema, expect=bool)
        out.extend(to_lsp(d, view, query) for d in found)
    return out


def lint_filter(view: DocumentView, diagnostics: list[types.Diagnostic], lint: LintConfig,
                ) -> list[types.Diagnostic]:
    """The diagnostics the project's lint settings select and no suppression comment
    silences (the rules of `segmentql check`; docs/cli.md#suppression-comments)."""
    from segmentql.lint import audience_name_lines, covered, suppressions

    rules = suppressions(view.source)
    names = audience_name_lines(view.source) if view.audience is not None and rules else {}
    kept = []
    for diagnostic in diagnostics:
        code = str(diagnostic.code or "")
        if code and not lint.enabled(code):
            continue
        lines = [diagnostic.range.start.line + 1]
        at = view.query_at(view.offset(diagnostic.range.start)) if names else None
        if at is not None and at[2] is not None and at[2].name in names:
            lines.append(names[at[2].name])
        if code and covered(rules, code, lines):
            continue
        kept.append(diagnostic)
    return kept


def completion_list(view: DocumentView, position: types.Position) -> types.CompletionList:
    at = view.query_at(view.offset(position))
    if at is None:
        return types.CompletionList(is_incomplete=False, items=[])
    text, offset, _ = at
    items = [
        types.CompletionItem(
            label=c.label,
            kind=_KIND[c.kind],
            detail=c.detail or None,
            documentation=(
                types.MarkupContent(types.MarkupKind.Markdown, c.documentation)
                if c.documentation else None
            ),
            sort_text=f"{c.rank}{index:04d}",
        )
        for index, c in enumerate(features.complete(text, offset, view.schema.schema))
    ]
    return types.CompletionList(is_incomplete=False, items=items)


def hover_result(view: DocumentView, position: types.Position) -> types.Hover | None:
    at = view.query_at(view.offset(position))
    if at is None:
        return None
    text, offset, query = at
    info = features.hover(text, offset, view.schema.schema)
    if info is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=info.markdown),
        range=view.file_range(query, info.start, info.end),
    )


def formatting_edits(view: DocumentView) -> list[types.TextEdit] | None:
    """One edit replacing the whole document: the canonical query, or for an audience file
    every query rewritten in place (None when nothing can be formatted)."""
    if view.audience is not None:
        rewritten = format_audience_document(view.source, features.format_text)
        if rewritten == view.source:
            return []
        return [types.TextEdit(range=view.range(0, len(view.source)), new_text=rewritten)]
    formatted = features.format_text(view.source)
    if formatted is None:
        return None
    if view.source.endswith("\n") and not formatted.endswith("\n"):
        formatted += "\n"
    if formatted == view.source:
        return []
    return [types.TextEdit(range=view.range(0, len(view.source)), new_text=formatted)]


# ------------------------------------------------------------------------------------------
# The server and its handlers (thin: convert, call, convert back)
# ------------------------------------------------------------------------------------------


def _settings_path(options: Any) -> str | None:
    """`schemaPath` from `{"segmentql": {"schemaPath": ...}}` or `{"schemaPath": ...}`."""
    if not isinstance(options, dict):
        return None
    inner = options.get("segmentql", options)
    if not isinstance(inner, dict):
        return None
    value = inner.get("schemaPath")
    return value if isinstance(value, str) and value else None


def build_server() -> SegmentqlServer:
    """A new server with every feature registered."""
    server = SegmentqlServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: SegmentqlServer, params: types.InitializeParams) -> None:
        ls.schema_path = _settings_path(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: SegmentqlServer, params: types.InitializedParams) -> None:
        # Build the parser and load the default schema now, not on the first keystroke.
        features.complete("user's ", 7, ls.workspace_schema().schema)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration(ls: SegmentqlServer, params: types.DidChangeConfigurationParams) -> None:
        ls.schema_path = _settings_path(params.settings)
        for uri in list(ls.workspace.text_documents):
            publish(ls, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SegmentqlServer, params: types.DidOpenTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SegmentqlServer, params: types.DidChangeTextDocumentParams) -> None:
        publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SegmentqlServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=["'", ".", " "]),
    )
    async def completion(
        ls: SegmentqlServer, params: types.CompletionParams
    ) -> types.CompletionList:
        def run() -> types.CompletionList:
            view = ls.view(params.text_document.uri)
            if view is None:
                return types.CompletionList(is_incomplete=False, items=[])
            return completion_list(view, params.position)

        return await ls.bounded("completion", run)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: SegmentqlServer, params: types.HoverParams) -> types.Hover | None:
        def run() -> types.Hover | None:
            view = ls.view(params.text_document.uri)
            return None if view is None else hover_result(view, params.position)

        return await ls.bounded("hover", run)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    def code_action(ls: SegmentqlServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        view = ls.view(params.text_document.uri)
        return [] if view is None else actions.code_actions(view, params.range)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    async def formatting(
        ls: SegmentqlServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        def run() -> list[types.TextEdit] | None:
            view = ls.view(params.text_document.uri)
            return None if view is None else formatting_edits(view)

        return await ls.bounded("formatting", run)

    return server


def publish(ls: SegmentqlServer, uri: str) -> None:
    """Check a served document and send its diagnostics."""
    view = ls.view(uri)
    if view is None:
        return
    version = ls.workspace.get_text_document(uri).version
    try:
        diagnostics = lint_filter(view, document_diagnostics(view), ls.lint_settings())
    except Exception as exc:  # a bug of ours: say so in the editor, keep serving
        diagnostics = [types.Diagnostic(
            range=view.range(0, 0), severity=types.DiagnosticSeverity.Error, source=SOURCE,
            message=f"segmentql internal error while checking: {type(exc).__name__}: {exc}",
        )]
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
    )


def main(*, tcp: bool = False, host: str = "127.0.0.1", port: int = 2087) -> None:
    """Run the server on stdio (or TCP)."""
    server = build_server()
    if tcp:
        server.start_tcp(host, port)
    else:
        server.start_io()
