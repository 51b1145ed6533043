"""Literal regexes (`~/^text$/i`) are tested with `str` methods: same results as RE2."""

from __future__ import annotations

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

import segmentql
from segmentql.runtime.helpers import compile_regex, literal_pattern

# Letters whose RE2 case-folding orbit leaves ASCII (k: KELVIN SIGN, s: LONG S), dotted and
# dotless i, sharp s, and a lone surrogate, mixed with plain ASCII.
TRICKY = "kKsS\u212a\u017fiI\u0130\u0131\u00df\u1e9e\u00e5\u212b\ud800@.-_ /\n"
texts = st.text(alphabet=st.sampled_from(TRICKY + "acmeACME.com"), max_size=12) | st.text(
    max_size=12
)
literal_bodies = st.text(
    alphabet=st.sampled_from("akKsSiI@-_ /.xyz09" + "\\.+*?()|[]{}^$"), min_size=1, max_size=6
)


def escape(body: str) -> str:
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in body)


def re2_search(pattern: str, flags: str, text: str) -> bool:
    options = re2.Options()
    options.case_sensitive = "i" not in flags
    options.dot_nl = "s" in flags
    data = text.encode("utf-8", "surrogatepass")
    regex = re2.compile(pattern, options)
    return bool(regex._regexp.Match(regex._regexp.Anchor.UNANCHORED, data, 0, len(data))[0][0]
                != -1)


@settings(max_examples=100, deadline=None)
@given(
    body=literal_bodies,
    start=st.booleans(),
    end=st.booleans(),
    flags=st.sampled_from(["", "i", "s", "is"]),
    text=texts,
)
def test_literal_fast_path_agrees_with_re2(
    body: str, start: bool, end: bool, flags: str, text: str
) -> None:
    pattern = ("^" if start else "") + escape(body) + ("$" if end else "")
    regex = compile_regex(pattern, flags)
    assert regex.literal is not None
    expected = re2_search(pattern, flags, text)
    assert regex.found(text) is expected
    assert regex.re2_found(text) is expected
    # the inline code the compiler writes for `matches` and for `not ... matches`
    regex_text = "~/" + pattern.replace("/", "\\/") + "/" + flags
    query = segmentql.compile(f"user's email matches {regex_text}")
    assert query.matches({"user": {"email": text}}) is expected
    negated = segmentql.compile(f"not (user's email matches {regex_text})")
    assert negated.matches({"user": {"email": text}}) is (not expected)


@settings(max_examples=100, deadline=None)
@given(text=texts, suffix=st.sampled_from(["@acme.com", "KS", "ks", "I"]))
def test_case_folding_beyond_ascii_goes_to_re2(text: str, suffix: str) -> None:
    pattern = escape(suffix) + "$"
    regex = compile_regex(pattern, "i")
    assert regex.found(text + "\u212a") is re2_search(pattern, "i", text + "\u212a")
    assert regex.found(text) is re2_search(pattern, "i", text)


def test_only_plain_text_is_literal() -> None:
    for pattern, flags in [
        ("a.c", ""), ("a\\dc", ""), ("a|b", ""), ("(?i)ab", ""), ("ab", "m"), ("^$", ""),
        ("a\\", ""), ("caf\u00e9", "i"), ("a\\bc", ""), ("a{2}", ""), ("\\Qa\\E", ""),
    ]:
        assert literal_pattern(pattern, flags) is None, pattern
    literal = literal_pattern("^@Acme\\.com$", "i")
    assert literal is not None
    assert (literal.text, literal.anchor, literal.ignore_case) == ("@acme.com", "both", True)
    literal = literal_pattern("a\\$", "")
    assert literal is not None and (literal.text, literal.anchor) == ("a$", "none")


def test_kelvin_sign_matches_k_ignoring_case() -> None:
    query = segmentql.compile("user's email matches ~/ok$/i")
    assert query.matches({"user": {"email": "O\u212a"}}) is True  # RE2 folds K (Kelvin) to k
    assert query.matches({"user": {"email": "OK"}}) is True
    assert query.matches({"user": {"email": "OKx"}}) is False


def test_dotted_capital_i_is_not_i_to_re2() -> None:
    # 'İ'.lower() is 'i' + a combining dot; RE2's case folding does not map it to 'i'
    for pattern, text in [("xi$", "x\u0130"), ("^i", "\u0130x"), ("xi", "x\u0130y"),
                          ("^xi$", "x\u0130"), ("ok$", "o\u212a"), ("^k", "\u212ax")]:
        expected = re2_search(pattern, "i", text)
        assert compile_regex(pattern, "i").found(text) is expected
        query = segmentql.compile(f"user's email matches ~/{pattern}/i")
        assert query.matches({"user": {"email": text}}) is expected, (pattern, text)
