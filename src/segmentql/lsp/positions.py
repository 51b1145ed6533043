"""Offsets in code points (segmentql's spans) to and from LSP positions.

LSP counts `Position.character` in the negotiated encoding: UTF-16 code units unless the client
offers `utf-8` or `utf-32` (LSP 3.17 `general.positionEncodings`). A character outside the BMP
(an emoji) is 2 UTF-16 units and 4 UTF-8 units, an accented letter 1 and 2.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Literal

Encoding = Literal["utf-16", "utf-8", "utf-32"]


def _width(char: str, encoding: Encoding) -> int:
    point = ord(char)
    if encoding == "utf-16":
        return 2 if point > 0xFFFF else 1
    if encoding == "utf-8":
        return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
    return 1


class LineIndex:
    """Line starts of a text, for converting code-point offsets to (line, character) and back.

    Lines end at `\\n` (a `\\r` before it stays part of the line, as LSP clients count it).
    """

    __slots__ = ("_starts", "encoding", "text")

    def __init__(self, text: str, encoding: Encoding = "utf-16") -> None:
        self.text = text
        self.encoding: Encoding = encoding
        starts = [0]
        find = text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        self._starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """0-based (line, character in the encoding's units) of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if self.encoding == "utf-32":
            return line, offset - start
        segment = self.text[start:offset]
        if segment.isascii():
            return line, len(segment)
        return line, sum(_width(c, self.encoding) for c in segment)

    def offset(self, line: int, character: int) -> int:
        """The code-point offset of a 0-based (line, character); clamped to the line's end
        (LSP says a character past the end means the end of the line)."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self.text)
        if self.encoding == "utf-32":
            return min(start + max(character, 0), end)
        units = 0
        at = start
        while at < end and units < character:
            units += _width(self.text[at], self.encoding)
            at += 1
        return at
