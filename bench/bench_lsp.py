"""Editor latency on a 500-character query: diagnostics, completion, hover, formatting.

    python bench/bench_lsp.py [--runs N]

Times the pure feature functions and the server's LSP-level helpers (which add position
conversion and lsprotocol objects) with a warm parser and schema, as in a running server.
The target (spec §7) is under 50 ms for completion and diagnostics.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from lsprotocol import types

from segmentql.lsp import features
from segmentql.lsp.positions import LineIndex
from segmentql.lsp.server import DocumentView, completion_list, document_diagnostics
from segmentql.lsp.workspace import SchemaChoice
from segmentql.schema import Schema

SCHEMA = Schema.default().extend({
    "custom": {"user": {"plan": {"enum": ["free", "pro", "team"]}, "score": {"type": "integer"}}}
})

CLAUSES = [
    'user\'s plan is "pro"',
    'session\'s landingPage matches "pricing"',
    "user's score is at least 40",
    'location\'s country is in ["FR", "DE", "ES", "IT"]',
    'user\'s email ends with "@example.com"',
    "user has viewed a page at least 3 times in the last 7 days",
    "cart's subtotal is greater than 120",
    'user\'s address\'s city is like "paris"',
    "every item in cart's items satisfies item's price < 500",
    'device\'s category is not "tablet"',
    "user's birthDate is before today",
]


def query_of_length(length: int) -> str:
    """Clauses joined by `and`, as close to `length` characters as they fit."""
    text = CLAUSES[0]
    for _ in range(3):
        for clause in CLAUSES:
            if len(text) + 5 + len(clause) <= length:
                text += " and " + clause
    if len(text) + 6 <= length:  # pad to the exact length with a comment
        text += " /*" + "-" * (length - len(text) - 6) + "*/"
    return " " * (length - len(text)) + text


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return statistics.median(samples), p95, samples[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--no-stdio", action="store_true",
                        help="skip the round trips through a server subprocess")
    args = parser.parse_args()

    query = query_of_length(500)
    # Completion at the end, after a possessive: the query text plus `and user's `.
    typing = query_of_length(500 - len(" and user's ")) + " and user's "
    mid = query.index("cart's") + len("cart's ")
    view = DocumentView("file:///q.segmentql", query, LineIndex(query), None,
                        SchemaChoice(SCHEMA, "bench"))
    typing_view = DocumentView("file:///t.segmentql", typing, LineIndex(typing), None,
                               SchemaChoice(SCHEMA, "bench"))
    end = typing_view.lines.position(len(typing))

    assert not [d for d in features.diagnose(query, SCHEMA) if d.is_error], "query must check"
    print(f"query: {len(query)} characters, {query.count(' and ') + 1} clauses; "
          f"completion prefix: {len(typing)} characters; {args.runs} runs")
    edits = iter(range(10**6))

    def fresh_edit() -> object:
        # A different text every run, as while typing (defeats any parse cache).
        return features.diagnose(query.replace("least 40", f"least {next(edits) % 90 + 10}"),
                                 SCHEMA)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("diagnostics after an edit (new text)", fresh_edit),
        ("diagnostics (features.diagnose)", lambda: features.diagnose(query, SCHEMA)),
        ("diagnostics (LSP, with conversion)", lambda: document_diagnostics(view)),
        ("completion after `user's ` at the end",
         lambda: features.complete(typing, len(typing), SCHEMA)),
        ("completion (LSP, with conversion)",
         lambda: completion_list(typing_view, types.Position(*end))),
        ("completion of attributes mid-query",
         lambda: features.complete(query, mid, SCHEMA)),
        ("completion of tests after an operand",
         lambda: features.complete(query[:30], len("user's plan "), SCHEMA)),
        ("hover", lambda: features.hover(query, query.index("landingPage") + 2, SCHEMA)),
        ("formatting", lambda: features.format_text(query)),
    ]
    print(f"{'':42} {'median':>9} {'p95':>9} {'max':>9}")
    for name, fn in cases:
        median, p95, worst = timed(fn, args.runs)
        print(f"{name:42} {median:8.2f}ms {p95:8.2f}ms {worst:8.2f}ms")
    if not args.no_stdio:
        import asyncio

        asyncio.run(over_stdio(query, typing, args.runs))


async def over_stdio(query: str, typing: str, runs: int) -> None:
    """The same requests through a real client and `python -m segmentql lsp` over stdio."""
    import sys

    from pytest_lsp import make_test_lsp_client

    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "segmentql", "lsp")
    await client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    uri = "file:///bench.segmentql"
    samples: dict[str, list[float]] = {"diagnostics (edit -> publish)": [], "completion": []}
    for version in range(runs + 1):
        text = typing if version % 2 else query
        start = time.perf_counter()
        if version == 0:
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, "segmentql", 0, text)))
        else:
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text)]))
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if version:
            samples["diagnostics (edit -> publish)"].append((time.perf_counter() - start) * 1000)
        if version % 2:
            start = time.perf_counter()
            await client.text_document_completion_async(types.CompletionParams(
                types.TextDocumentIdentifier(uri), types.Position(0, len(typing))))
            if version > 1:  # the first one warms the server up, as in `timed`
                samples["completion"].append((time.perf_counter() - start) * 1000)
    await client.shutdown_session()
    for name, values in samples.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"stdio {name:36} {statistics.median(values):8.2f}ms {p95:8.2f}ms "
              f"{values[-1]:8.2f}ms")


if __name__ == "__main__":
    main()
