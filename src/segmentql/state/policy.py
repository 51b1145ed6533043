"""`StatePolicy`: every setting of the state model, with its documented default."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Identifiers rejected by default (compared after trimming whitespace and surrounding quotes,
#: case-insensitively): the union of the Amplitude, PostHog and Segment lists in
#: `identity-model.md` §1.
DEFAULT_BLOCKED_IDENTIFIERS: frozenset[str] = frozenset(
    {
        "",
        "null",
        "nil",
        "none",
        "undefined",
        "anonymous",
        "guest",
        "unknown",
        "n/a",
        "na",
        "nan",
        "true",
        "false",
        "id",
        "email",
        "distinctid",
        "distinct_id",
        "not_authenticated",
        "[object object]",
        "{}",
        "lmy47d",
        "0",
        "-1",
        "00000000-0000-0000-0000-000000000000",
    }
)

#: Patterns rejected by default: only zeros and dashes (Segment's suggested `^[0-]*$`).
DEFAULT_BLOCKED_PATTERNS: tuple[str, ...] = (r"[0-]+",)


class StatePolicy(BaseModel):
    """Settings of identity resolution, sessions and limits. Immutable; defaults as documented."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    merge_winner: Literal["target", "source"] = "target"
    """Which profile wins a conflicting attribute when two profiles merge: `target` (the
    identified profile on identify, the `into` profile on merge) or `source` (the anonymous /
    `from` profile). Either way the other one fills the gaps."""

    allow_explicit_merge: bool = False
    """Whether `merge` events (joining two identified users) are accepted."""

    blocked_identifiers: frozenset[str] = DEFAULT_BLOCKED_IDENTIFIERS
    """Rejected ids, compared trimmed, unquoted and case-insensitively."""

    blocked_patterns: tuple[str, ...] = DEFAULT_BLOCKED_PATTERNS
    """Regular expressions (full match, case-insensitive) of rejected ids, after trimming."""

    min_identifier_length: int = Field(default=0, ge=0)
    """Shortest accepted id after trimming (0: no minimum)."""

    max_anonymous_ids: int = Field(default=1000, ge=1)
    """Anonymous ids linked to one profile; a link beyond it is not made (and reported)."""

    max_merges: int = Field(default=100, ge=0)
    """Merges into one profile; a merge beyond it is not made (reported, or refused for
    an explicit `merge`)."""

    session_timeout: timedelta = timedelta(minutes=30)
    """Inactivity that ends a session: a gap of this long **or longer** starts a new one."""

    session_max_length: timedelta | None = None
    """Longest session: activity this long (or longer) after its start starts a new one."""

    max_events_per_profile: int = Field(default=1000, ge=1)
    """Tracked events kept per profile (oldest dropped first, reported); stats keep counting."""

    max_batch_events: int = Field(default=10_000, ge=1)
    """Most events one `apply` call takes; a longer batch is rejected whole (split it)."""

    max_list_length: int = Field(default=1000, ge=1)
    """Longest list a patch may leave in an attribute; more rejects the patch."""

    max_custom_attributes: int = Field(default=100, ge=1)
    """Most custom attributes per profile or session; more rejects the patch."""

    @field_validator("blocked_identifiers", mode="after")
    @classmethod
    def _fold_identifiers(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(normalize_identifier(v) for v in value)

    @field_validator("blocked_patterns", mode="after")
    @classmethod
    def _check_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid blocked pattern {pattern!r}: {exc}") from None
        return value

    @field_validator("session_timeout", mode="after")
    @classmethod
    def _positive_timeout(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("session_timeout must be positive")
        return value

    def blocked_reason(self, identifier: str) -> str | None:
        """Why `identifier` is rejected, or None if it is accepted."""
        for char in identifier:
            if unicodedata.category(char) == "Cc":
                return f"contains the control character U+{ord(char):04X}"
        normalized = normalize_identifier(identifier)
        if not normalized:
            return "empty or only whitespace/quotes"
        if normalized in self.blocked_identifiers:
            return "on the identifier blocklist (placeholder values are never real ids)"
        for pattern in self.blocked_patterns:
            if _compiled(pattern).fullmatch(normalized):
                return f"matches the blocked pattern {pattern!r}"
        if len(normalized) < self.min_identifier_length:
            return f"shorter than the minimum length {self.min_identifier_length}"
        return None


_QUOTES = ("'", '"')


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


#: Invisible characters removed before comparing: zero-width space/joiners, word joiner,
#: soft hyphen and the byte-order mark.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u00ad\ufeff"))


def normalize_identifier(value: str) -> str:
    """The form compared against the blocklist: NFKC-normalized, zero-width characters and
    BOM removed, trimmed, quotes stripped, case-folded."""
    text = value if value.isascii() else unicodedata.normalize("NFKC", value).translate(_INVISIBLE)
    text = text.strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        text = text[1:-1].strip()
    if text in _QUOTES:
        text = ""
    return text.casefold()
