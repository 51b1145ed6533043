"""Fuzzing every public entry point (issue #12): parse, check, compile, evaluate, matches,
explain (and its rendering), format, and the language server's frame loop.

Each property asserts only what the project promises for *any* input: our own exceptions and
nothing else, the budget's codes when an evaluation is stopped, exact booleans from
`matches`, strict JSON from explanations, and the format round trip. Hypothesis runs a modest
number of examples in CI and thousands under `--deep` (the `deep` profile in conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import segmentql
from segmentql import Budget, EvaluationError, QueryError, QuerySyntaxError
from segmentql.syntax import strategies as syn
from segmentql.syntax.formatter import format_ast

#: A small budget keeps every fuzzed evaluation short; stops are expected and checked.
BUDGET = Budget(steps=5_000, size=20_000, depth=16)
BUDGET_CODES = {"Q312", "Q313", "Q314"}

WORDS = ["user", "'s", " is ", " and ", " or ", " not ", "some ", " in ", " satisfies ",
         "let ", " = ", "; ", "=>", "(", ")", "[", "]", '"', "1", "0.5", "..", " & ",
         " without duplicates", " sorted", " + ", " weekdays", "today", "ı", "ſ", "\u212a",
         "İ", "~/", "/", "\\", ",", ":", "'", "**", " as integer", " as string", "1e300",
         "events", " has viewed a page", "\x00", "\n", "//", "/*"]

texts = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(WORDS), max_size=40).map("".join),
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).filter(
        lambda d: not d.is_snan()),
    st.sampled_from(["2024-07-24", "2024-07-24T10:00:00Z", "12:00", "1e300", "", "pro",
                     10**400, -(10**30), float("nan")]),
)
data_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.sampled_from(["plan", "age", "tags", "id", "x", "PLAN", "custom"]),
                      inner, max_size=4),
    max_leaves=12,
)
variables = st.fixed_dictionaries({}, optional={
    "user": st.dictionaries(st.sampled_from(["plan", "age", "tags", "name", "x", "score"]),
                            data_values, max_size=5),
    "context": st.dictionaries(st.sampled_from(["a", "b", "xs"]), data_values, max_size=3),
    "events": st.lists(st.fixed_dictionaries({
        "type": st.sampled_from(["pageOpened", "orderPlaced", "x"]),
        "timestamp": st.sampled_from(["2024-07-24T10:00:00Z", "bad", None, float("nan"), 17]),
        "properties": st.dictionaries(st.text(max_size=5), scalars, max_size=3),
    }), max_size=4),
})


def _strict(value: Any) -> None:
    json.dumps(value, allow_nan=False)


def _exercise(text: str, values: dict[str, Any]) -> None:
    """Every entry point on one text; only our exceptions may come out."""
    diagnostics = segmentql.check(text, budget=BUDGET)
    assert isinstance(diagnostics, list)
    try:
        formatted = segmentql.format(text)
    except QuerySyntaxError:
        formatted = None
    if formatted is not None:
        tree = segmentql.parse(text)
        assert segmentql.parse(formatted) == tree
        assert segmentql.format(formatted) == formatted
    try:
        query = segmentql.compile(text, budget=BUDGET)
    except QueryError:
        return
    matched = query.matches(values, now="2024-07-31T12:00:00Z")
    assert matched is True or matched is False
    try:
        query.evaluate(values, now="2024-07-31T12:00:00Z")
    except EvaluationError as exc:
        assert exc.code.startswith("Q3")
        if exc.code in BUDGET_CODES:
            assert matched is False
    explanation = query.explain(values, now="2024-07-31T12:00:00Z")
    assert isinstance(explanation.render(), str)
    _strict(explanation.to_json())


@given(texts, variables)
def test_any_text_gives_only_our_errors(text: str, values: dict[str, Any]) -> None:
    _exercise(text, values)


@given(syn.expressions(max_depth=3), variables)
def test_any_query_of_the_grammar_on_any_data(tree: Any, values: dict[str, Any]) -> None:
    try:
        text = format_ast(tree)
    except ValueError:  # a value with no literal form (an infinite float)
        return
    if len(text) > 500:
        return
    _exercise(text, values)


@given(st.sampled_from([
    "let f = (g, n) => 1 if n <= 1 else g(g, n - 1) + g(g, n - 2); f(f, {n}) > 0",
    "some a in 1..{n} satisfies some b in 1..{n} satisfies some c in 1..{n} satisfies a < 0",
    'let a = "{s}"; let b = a & a & a & a; let c = b & b & b & b; let d = c & c & c & c; '
    'let e = d & d & d & d; (e & e & e & e & e) is "x"',
    "today + {n}99999 weekdays > today",
    "let f = (g, n) => 0 if n is 0 else g(g, n - 1); f(f, {n}) is 0",
]), st.integers(min_value=1, max_value=30), st.text(min_size=1, max_size=30,
                                                    alphabet="abcxyz"))
def test_expensive_shapes_stop_with_a_budget_code(template: str, n: int, s: str) -> None:
    text = template.format(n=n, s=s)
    query = segmentql.compile(text, budget=BUDGET)
    try:
        query.evaluate({}, now="2024-07-31T12:00:00Z")
    except EvaluationError as exc:
        assert exc.code in BUDGET_CODES | {"Q305"}


# -- the language server's frame loop --------------------------------------------------------

class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data = data

    async def readline(self) -> bytes:
        from segmentql.lsp.framing import MAX_HEADER_LINE

        end = self.data.find(b"\n", 0, MAX_HEADER_LINE)
        cut = MAX_HEADER_LINE if end < 0 else end + 1
        line, self.data = self.data[:cut], self.data[cut:]
        return line

    async def readexactly(self, n: int) -> bytes:
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk


class _Capture:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


frames = st.lists(st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"Content-Length: 2\r\n\r\n{}", b"Content-Length: 99999999999\r\n\r\n",
                     b"Content-Length: -1\r\n\r\n", b"content-length:5\r\n\r\n[1,2]",
                     b'Content-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"x","params":7}',
                     b"\r\n", b"Content-Length: 3\r\n\r\n\xff\xfe\x00"]),
    st.builds(lambda body: b"Content-Length: %d\r\n\r\n" % len(body) + body,
              st.one_of(st.binary(max_size=40), st.builds(
                  lambda m, i, p: json.dumps({"jsonrpc": "2.0", "id": i, "method": m,
                                              "params": p}).encode(),
                  st.sampled_from(["textDocument/hover", "textDocument/completion",
                                   "textDocument/formatting", "shutdown", "nope", ""]),
                  st.one_of(st.integers(), st.text(max_size=3), st.none(), st.booleans()),
                  st.recursive(st.none() | st.integers() | st.text(max_size=5),
                               lambda x: st.lists(x, max_size=3)
                               | st.dictionaries(st.text(max_size=8), x, max_size=3),
                               max_leaves=6)))),
), max_size=12).map(b"".join)


@given(frames)
def test_the_frame_loop_survives_any_bytes(data: bytes) -> None:
    from segmentql.lsp.framing import serve_frames
    from segmentql.lsp.server import build_server

    server = build_server()
    capture = _Capture()
    server.protocol.set_writer(capture)
    try:
        asyncio.run(serve_frames(threading.Event(), _BytesReader(data),
                                 server.protocol))  # type: ignore[arg-type]
    finally:
        server.requests.shutdown(wait=True)
    text = capture.written.decode("utf-8")
    assert "Traceback" not in text
    for part in text.split("Content-Length: ")[1:]:
        body = part.split("\r\n\r\n", 1)[1]
        message = json.loads(body, parse_constant=_no_constant)
        assert message["jsonrpc"] == "2.0"


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} in a server message")
