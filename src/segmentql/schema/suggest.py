"""'Did you mean' candidates for mistyped names (shared by the schema loader and the checker)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from functools import lru_cache


def did_you_mean(name: str, candidates: Iterable[str], *, limit: int = 3) -> list[str]:
    """Up to `limit` candidates close to `name`, best first, compared case-insensitively.

    Besides edit similarity, a candidate that starts with the name (`int` → `integer`) or that
    the name starts with counts as close, since both are common typing slips.
    """
    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)
    key = name.casefold()
    if not key or not folded:
        return []
    scored: list[tuple[float, str]] = []
    for low, original in folded.items():
        if low == key:
            continue
        ratio = difflib.SequenceMatcher(None, key, low).ratio()
        if len(key) >= 3 and (low.startswith(key) or key.startswith(low)) and len(low) >= 3:
            ratio = max(ratio, 0.8)
        if _one_transposition(key, low):
            ratio = max(ratio, 0.9)
        if ratio >= 0.7:
            scored.append((ratio, original))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    return [original for _, original in scored[:limit]]


def _one_transposition(a: str, b: str) -> bool:
    if len(a) != len(b) or len(a) < 2:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    )


def help_for(suggestions: Sequence[str], *, quote: str = "`") -> str | None:
    """`did you mean `x`?` / `did you mean `x` or `y`?`, or None."""
    if not suggestions:
        return None
    quoted = [f"{quote}{s}{quote}" for s in suggestions]
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return "did you mean " + ", ".join(quoted[:-1]) + f" or {quoted[-1]}?"


@lru_cache(maxsize=4096)
def near_misses(name: str, declared: tuple[str, ...]) -> tuple[str, ...]:
    """The declared names one slip from `name` (for "read as custom" warnings)."""
    return tuple(c for c in declared if _near(name, c))


def _near(name: str, declared: str) -> bool:
    """One slip apart: an edit, a swap of neighbours, or a case-only difference."""
    a, b = name.casefold(), declared.casefold()
    if a == b:
        return False
    if min(len(a), len(b)) < 4:
        return False
    return _damerau(a, b) <= (1 if max(len(a), len(b)) < 8 else 2)


def _damerau(a: str, b: str) -> int:
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]
