"""The server's message loop: LSP frames in, JSON-RPC answers out, and nothing kills it.

pygls' own loop trusts its input: one `Content-Length: 99999999999` frame makes it allocate
that much, a request whose params do not fit the LSP types gets no answer at all (the client
waits forever), and its error responses carry server tracebacks. This loop replaces it:

- header lines are read at most `MAX_HEADER_LINE` bytes at a time;
- a frame longer than `MAX_MESSAGE_BYTES` gets an Invalid Request error (id null) and is not
  read: the loop goes back to looking for headers, so it never holds more than a line;
- a body that is not UTF-8 JSON gets a Parse Error (id null), one that is not a JSON-RPC
  object an Invalid Request;
- a request whose params do not fit its method's types gets Invalid Params with its id;
- every error response carries a message only (`SafeProtocol`), never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

logger = logging.getLogger(__name__)

MAX_HEADER_LINE = 8 * 1024
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REQUEST_FAILED = -32803

#: A Content-Length header, possibly after the tail of a skipped frame on the same line.
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\S*)[ \t]*\r?\n\Z", re.IGNORECASE)


class LineReader(Protocol):
    def readline(self) -> Awaitable[bytes]: ...

    def readexactly(self, n: int) -> Awaitable[bytes]: ...


class BoundedStdinReader:
    """Standard input read in a worker thread, lines cut at `MAX_HEADER_LINE` bytes."""

    def __init__(self, stdin: Any) -> None:
        self.stdin = stdin

    def readline(self) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(
            None, self.stdin.readline, MAX_HEADER_LINE
        )

    def readexactly(self, n: int) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(None, self._read, n)

    def _read(self, n: int) -> bytes:
        chunks = []
        while n > 0:
            chunk = self.stdin.read(n)
            if not chunk:
                break
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)


class BoundedStreamReader:
    """An asyncio stream (TCP) read the same way."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        try:
            return await self.stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            return exc.partial
        except asyncio.LimitOverrunError as exc:
            return await self.stream.read(min(exc.consumed, MAX_HEADER_LINE) or MAX_HEADER_LINE)

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial


class SafeProtocol(LanguageServerProtocol):
    """pygls' protocol, but error responses carry a message and no traceback."""

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        if error is not None:
            message = str(getattr(error, "message", "") or "request failed")
            error = types.ResponseError(code=int(getattr(error, "code", INTERNAL_ERROR)),
                                        message=_first_line(message))
        super()._send_response(msg_id, result, error)

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        """An error response to a message the protocol could not take (`msg_id` None for
        one whose id is unknown)."""
        payload = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
        self._send_data(_RawMessage(payload))

    def _serialize_message(self, data: Any) -> Any:
        if isinstance(data, _RawMessage):
            return data.payload
        return super()._serialize_message(data)


class _RawMessage:
    """A message already in JSON form (sent as it is)."""

    __slots__ = ("payload",)

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "request failed"
    return line[:500]


def _valid_id(value: Any) -> Any:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def handle_body(protocol: SafeProtocol, body: bytes) -> None:
    """One frame's body: parse it, hand it to pygls, answer what pygls cannot."""
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        protocol.send_error(None, PARSE_ERROR, "Parse error: the message is not UTF-8 JSON")
        return
    if not isinstance(raw, dict) or raw.get("jsonrpc") != "2.0":
        protocol.send_error(None, INVALID_REQUEST,
                            "Invalid Request: expected a JSON-RPC 2.0 object")
        return
    method = raw.get("method")
    is_request = "id" in raw and method is not None
    if method is not None and not isinstance(method, str):
        if "id" in raw:
            protocol.send_error(_valid_id(raw.get("id")), INVALID_REQUEST,
                                "Invalid Request: 'method' must be a string")
        return
    if "id" in raw and _valid_id(raw["id"]) is None and raw["id"] is not None:
        protocol.send_error(None, INVALID_REQUEST,
                            "Invalid Request: 'id' must be a string or an integer")
        return
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except Exception:
        if is_request:
            protocol.send_error(raw["id"], INVALID_PARAMS,
                                f"Invalid params for {method}: they do not match the "
                                "method's parameter types")
        else:
            logger.warning("dropped a malformed notification or response: %s", method)
        return
    try:
        protocol.handle_message(message)
    except Exception as exc:  # pygls answers most of these itself; this is the rest
        logger.warning("message %s failed: %s", method, type(exc).__name__)
        if is_request:
            protocol.send_error(raw["id"], INTERNAL_ERROR,
                                f"Internal error: {type(exc).__name__}")


async def serve_frames(stop: threading.Event, reader: LineReader, protocol: SafeProtocol) -> None:
    """The loop (see the module docstring). Returns at end of input or when `stop` is set."""
    length: int | None = None
    broken = False
    while not stop.is_set():
        line = await reader.readline()
        if not line:
            return
        if not line.endswith(b"\n"):  # a header line longer than the limit: garbage
            length, broken = None, False
            continue
        match = _CONTENT_LENGTH.search(line)
        if match is not None:
            value = match.group(1)
            if value.isdigit() and len(value) <= 18:
                length, broken = int(value), False
            else:
                length, broken = None, True
            continue
        if line.strip():
            continue  # another header (Content-Type) or stray bytes
        if broken:
            protocol.send_error(None, PARSE_ERROR, "Parse error: invalid Content-Length header")
            broken = False
            continue
        if length is None:
            continue
        size, length = length, None
        if size > MAX_MESSAGE_BYTES:
            protocol.send_error(
                None, INVALID_REQUEST,
                f"Invalid Request: a message of {size} bytes is larger than the limit of "
                f"{MAX_MESSAGE_BYTES} bytes; it was skipped",
            )
            continue  # its bytes are read as lines and dropped: memory stays bounded
        body = await reader.readexactly(size) if size else b""
        if len(body) < size:
            return
        handle_body(protocol, body)


def raise_timeout(method: str, seconds: float) -> None:
    raise JsonRpcException(
        code=REQUEST_FAILED,
        message=f"segmentql did not finish {method} within {seconds:g} s",
    )
