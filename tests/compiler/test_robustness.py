"""Every corpus query on odd profiles: `matches` returns a bool, `evaluate` returns a value or
raises `EvaluationError` with a run-time code, and never fails internally (Q300)."""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from segmentql.compiler import compile_query
from segmentql.errors import EvaluationError, QueryError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))
from conformance_corpus import load_all

SCALARS: list[Any] = [None, True, False, 0, 1, -3, 18, 2**70, 0.3, float("nan"), Decimal("1.5"),
                      "", "pro", "2024-07-24", "12:00", "2024-07-24T10:00:00Z", "x" * 50]
NAMES = ["plan", "age", "id", "stats", "sessions", "pageviews", "items", "custom", "email",
         "interests", "url", "price", "name", "tags", "birthDate", "PLAN"]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth <= 0 or roll < 0.55:
        return rng.choice(SCALARS)
    if roll < 0.8:
        return [_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(NAMES): _value(rng, depth - 1) for _ in range(rng.randint(0, 4))}


def _event(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return _value(rng, 1)
    return {
        "type": rng.choice(["pageOpened", "orderPlaced", "interestShown", "goalCompleted"]),
        "timestamp": rng.choice(["2024-07-24T10:00:00Z", "bad", None, 17]),
        "sessionId": rng.choice(["s1", "s2", None, [1]]),
        "properties": _value(rng, 2),
    }


def profiles(seed: int, count: int) -> list[Any]:
    rng = random.Random(seed)
    out: list[Any] = [{}, {"user": None}, {"user": "text"}, {"events": "junk"}]
    for _ in range(count):
        out.append({
            name: (_value(rng, 3) if name != "events" else [_event(rng) for _ in range(3)])
            for name in ("user", "session", "cart", "page", "context", "events")
            if rng.random() < 0.8
        })
    return out


def test_no_internal_failures_on_odd_profiles() -> None:
    data = profiles(7, 8)
    checked = 0
    for text in sorted({str(case.data["query"]) for case in load_all()}):
        try:
            query = compile_query(text)
        except QueryError:
            continue
        for variables in data:
            assert query.matches(variables, now="2024-07-24T12:00:00Z") in (True, False)
            try:
                query.evaluate(variables, now="2024-07-24T12:00:00Z")
            except EvaluationError as exc:
                assert exc.code != "Q300", (text, variables, exc)
            checked += 1
    assert checked > 5000
