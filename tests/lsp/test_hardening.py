"""The language server under hostile input: raw frames written to a real `segmentql lsp`
process, every answer read back (issue #12). Without the bounded frame loop the enormous
Content-Length kills the server, badly typed params get no answer, and errors carry
tracebacks."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segmentql.lsp import framing
from segmentql.lsp.server import SegmentqlServer


class RawClient:
    """Writes frames to the server's stdin and reads JSON-RPC messages from its stdout."""

    def __init__(self, cwd: Path) -> None:
        env = dict(os.environ)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "segmentql", "lsp"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env,
        )
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self, timeout: float = 20) -> dict[str, Any]:
        """The next message from the server (fails after `timeout` seconds)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if sep:
                fields = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
                length = int(fields[b"Content-Length"])
                if len(rest) >= length:
                    self.buffer = rest[length:]
                    return json.loads(rest[:length])  # type: ignore[no-any-return]
            left = deadline - time.monotonic()
            assert left > 0, "the server did not answer in time"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, "the server exited"
                self.buffer += chunk

    def response(self, msg_id: Any, timeout: float = 20) -> dict[str, Any]:
        """The response to `msg_id` (notifications in between are skipped)."""
        while True:
            message = self.read(timeout)
            if "id" in message and message["id"] == msg_id and "method" not in message:
                return message

    def notification(self, method: str, timeout: float = 20) -> dict[str, Any]:
        while True:
            message = self.read(timeout)
            if message.get("method") == method:
                return message

    def close(self) -> None:
        try:
            self.send({"jsonrpc": "2.0", "id": 9999, "method": "shutdown"})
            self.send({"jsonrpc": "2.0", "method": "exit"})
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait(timeout=10)
        finally:
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[RawClient]:
    """One server for the module: each test ends by checking it still answers."""
    client = RawClient(workspace)
    client.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"capabilities": {}, "rootUri": workspace.as_uri()}})
    assert "result" in client.response(1)
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    yield client
    client.close()


def _hover(client: RawClient, msg_id: int, uri: str = "file:///nowhere.segmentql") -> None:
    client.send({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/hover",
                 "params": {"textDocument": {"uri": uri}, "position": {"line": 0,
                                                                       "character": 0}}})


def _assert_alive(client: RawClient, msg_id: int) -> None:
    _hover(client, msg_id)
    answer = client.response(msg_id)
    assert answer.get("result") is None and "error" not in answer


def _assert_clean_error(answer: dict[str, Any], code: int) -> None:
    error = answer["error"]
    assert error["code"] == code
    assert "data" not in error or error["data"] is None
    text = json.dumps(answer)
    assert "Traceback" not in text and 'File \\"' not in text and ".py" not in text


def test_an_enormous_content_length_gets_an_error_and_the_server_goes_on(
    server: RawClient,
) -> None:
    server.send_raw(b"Content-Length: 99999999999999\r\n\r\n")
    _assert_clean_error(server.response(None), framing.INVALID_REQUEST)
    _assert_alive(server, 2)


def test_bad_json_and_bad_bytes_get_parse_errors(server: RawClient) -> None:
    for body in (b"{not json", b"\xff\xfe\x00garbage", b"[1, 2]"):
        server.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        answer = server.response(None)
        expected = framing.INVALID_REQUEST if body == b"[1, 2]" else framing.PARSE_ERROR
        _assert_clean_error(answer, expected)
    server.send_raw(b"Content-Length: nope\r\n\r\n")
    _assert_clean_error(server.response(None), framing.PARSE_ERROR)
    server.send_raw(b"X" * 100_000 + b"\r\n")  # an endless header line is dropped
    _assert_alive(server, 3)


def test_wrongly_typed_params_get_an_answer(server: RawClient) -> None:
    for msg_id, params in enumerate(
        ({"textDocument": 5, "position": "x"}, {"textDocument": {"uri": 3}}, [1, 2], "text"),
        start=10,
    ):
        server.send({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/hover",
                     "params": params})
        answer = server.response(msg_id)
        assert "error" in answer, answer
        assert "Traceback" not in json.dumps(answer)
    server.send({"jsonrpc": "2.0", "id": 20, "method": "textDocument/completion",
                 "params": {"textDocument": {"uri": "file:///x.segmentql"},
                            "position": {"line": -5, "character": "a"}}})
    assert "error" in server.response(20)
    _assert_alive(server, 21)


def test_a_document_is_never_read_from_disk_by_its_uri(server: RawClient) -> None:
    _hover(server, 30, "file:///dev/zero")
    assert server.response(30).get("result") is None


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/stdin", "fifo", "outside", "big"])
def test_schema_files_named_by_a_document_are_bounded(
    server: RawClient, workspace: Path, tmp_path_factory: pytest.TempPathFactory, target: str,
) -> None:
    if target == "fifo":
        os.mkfifo(workspace / "schema.fifo")
        target = "schema.fifo"
    elif target == "outside":
        elsewhere = tmp_path_factory.mktemp("elsewhere") / "schema.yaml"
        elsewhere.write_text("extends: default\n", encoding="utf-8")
        target = str(elsewhere)
    elif target == "big":
        (workspace / "big.yaml").write_bytes(b"# " + b"x" * (3 * 1024 * 1024) + b"\n")
        target = "big.yaml"
    uri = (workspace / f"{abs(hash(target))}.audiences.yaml").as_uri()
    text = f"schema: {target}\naudiences:\n  pro: user's plan is \"pro\"\n"
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
    while True:
        published = server.notification("textDocument/publishDiagnostics")
        if published["params"]["uri"] == uri:
            break
    messages = [d["message"] for d in published["params"]["diagnostics"]]
    assert any("cannot use schema" in m or "not found" in m for m in messages), messages
    _assert_alive(server, 40)


def test_every_request_answers_within_the_timeout() -> None:
    server = SegmentqlServer()
    server.request_timeout = 0.2
    finished = threading.Event()

    def stuck() -> None:
        finished.wait(10)

    async def slow() -> None:
        await server.bounded("hover", stuck)

    from pygls.exceptions import JsonRpcException

    with pytest.raises(JsonRpcException) as info:
        asyncio.run(slow())
    assert info.value.code == framing.REQUEST_FAILED
    assert not finished.is_set()  # answered while the work was still running
    finished.set()
    server.requests.shutdown(wait=True)


def test_stdio_reader_cuts_long_lines() -> None:
    read, write = os.pipe()
    os.write(write, b"y" * (framing.MAX_HEADER_LINE * 2) + b"\n")
    os.close(write)
    with os.fdopen(read, "rb") as stream:
        reader = framing.BoundedStdinReader(stream)
        first = asyncio.run(_line(reader))
    assert len(first) == framing.MAX_HEADER_LINE and not first.endswith(b"\n")


async def _line(reader: framing.BoundedStdinReader) -> bytes:
    return await reader.readline()
