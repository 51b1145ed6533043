"""Checker benchmark: parse + check time per query, median µs, over the grammar corpus.

    python bench/bench_check.py            # every query of grammar/corpus/valid/*.yaml
    python bench/bench_check.py --quick    # fewer rounds

Reports, over the corpus (or a built-in list when the corpus is missing): the median time of
parse alone, of check alone (on the parsed AST) and of parse + check, plus the same for a
typical 5-clause audience.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from segmentql.checker import analyze
from segmentql.schema import Schema
from segmentql.syntax.parser import parse_with_diagnostics

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted((ROOT / "grammar" / "corpus" / "valid").glob("*.yaml"))
CORPUS_SCHEMA = ROOT / "tests" / "checker" / "corpus_schema.yaml"

FIVE_CLAUSES = (
    'user\'s plan is "pro" and user\'s email ends with "@acme.com" and session\'s landingPage '
    'matches "pricing" and location\'s city is in ["Lisbon", "Porto"] and user is returning'
)
BUILT_IN = [
    FIVE_CLAUSES,
    "user's stats' orders >= 2 or user's visits > 10",
    'user has viewed a page with url like "blog" at least 2 times in the last 7 days',
    "every item in cart satisfies item's price > 10",
    "let limit = 10; count of user's interests > limit",
]


def queries() -> list[str]:
    if not CORPUS:
        return BUILT_IN
    out: list[str] = []
    for path in CORPUS:
        out += [entry["query"] for entry in yaml.safe_load(path.read_text("utf-8")) or []]
    return out


def per_call(fn: object, rounds: int) -> float:
    """Best-of-3 mean seconds per call of a zero-argument callable."""
    call = fn  # keep mypy quiet about calling `object`
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            call()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / rounds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    rounds = 5 if args.quick else 30
    schema = Schema.load(CORPUS_SCHEMA) if CORPUS and CORPUS_SCHEMA.exists() \
        else Schema.default()
    texts = queries()
    parse_us: list[float] = []
    check_us: list[float] = []
    total_us: list[float] = []
    for text in texts:
        tree = parse_with_diagnostics(text).ast
        parse_us.append(per_call(lambda t=text: parse_with_diagnostics(t), rounds) * 1e6)
        if tree is not None:
            check_us.append(per_call(lambda a=tree: analyze(a, schema), rounds) * 1e6)
        total_us.append(per_call(lambda t=text: analyze(t, schema), rounds) * 1e6)
    source = f"{len(CORPUS)} corpus files" if CORPUS else "built-in list"
    print(f"queries: {len(texts)} ({source}), {rounds} rounds each, best of 3")
    print(f"parse          median {statistics.median(parse_us):8.1f} µs")
    print(f"check (AST)    median {statistics.median(check_us):8.1f} µs")
    print(f"parse + check  median {statistics.median(total_us):8.1f} µs")
    tree = parse_with_diagnostics(FIVE_CLAUSES).ast
    five_check = per_call(lambda: analyze(tree, Schema.default()), rounds * 10) * 1e6  # type: ignore[arg-type]
    five_total = per_call(lambda: analyze(FIVE_CLAUSES, Schema.default()), rounds * 10) * 1e6
    print(f"5-clause audience: check {five_check:.1f} µs, parse + check {five_total:.1f} µs")


if __name__ == "__main__":
    main()
