"""Code-point offsets to LSP positions and back, in UTF-16, UTF-8 and UTF-32."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentql.lsp.positions import LineIndex

TEXT = 'user\'s city is "Zoë 😀" and\nsession\'s landingPage matches "ñ"\r\nx'


def test_utf16_counts_astral_characters_twice() -> None:
    index = LineIndex(TEXT)
    after_emoji = TEXT.index("😀") + 1
    # `"Zoë ` is 5 units; the emoji 2 more.
    assert index.position(after_emoji) == (0, TEXT.index("😀") + 2)
    assert index.offset(0, TEXT.index("😀") + 2) == after_emoji


def test_accented_letters_are_one_utf16_unit_and_two_utf8_bytes() -> None:
    offset = TEXT.index("ë") + 1
    assert LineIndex(TEXT).position(offset) == (0, offset)
    assert LineIndex(TEXT, "utf-8").position(offset) == (0, offset + 1)
    assert LineIndex(TEXT, "utf-32").position(offset) == (0, offset)


def test_lines_and_carriage_returns() -> None:
    index = LineIndex(TEXT)
    second = TEXT.index("session")
    assert index.position(second) == (1, 0)
    third = TEXT.index("x")
    assert index.position(third) == (2, 0)
    # The `\r` stays on its line; a character past the end clamps to the line end.
    end_of_second = TEXT.index("\r\n") + 1
    assert index.offset(1, 500) == end_of_second
    assert index.offset(9, 0) == len(TEXT)
    assert index.position(len(TEXT) + 10) == (2, 1)


@settings(max_examples=60, deadline=None)
@given(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.sampled_from(["utf-16", "utf-8", "utf-32"]),
    st.data(),
)
def test_round_trip(text: str, encoding: str, data: st.DataObject) -> None:
    index = LineIndex(text, encoding)  # type: ignore[arg-type]
    offset = data.draw(st.integers(0, len(text)))
    line, character = index.position(offset)
    assert index.offset(line, character) == offset


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
def test_matches_the_encoded_length(encoding: str) -> None:
    line = 'user\'s name is "😀é"'
    index = LineIndex(line, encoding)  # type: ignore[arg-type]
    codec = "utf-16-le" if encoding == "utf-16" else "utf-8"
    unit = 2 if encoding == "utf-16" else 1
    assert index.position(len(line)) == (0, len(line.encode(codec)) // unit)
