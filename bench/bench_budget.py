"""The cost budget measured: the most expensive queries one can write (500 code points at
most), before and after the budget, and the slowest queries that still finish within it.

    python bench/bench_budget.py                        # this checkout
    python bench/bench_budget.py --src /path/to/src     # another checkout (e.g. "before")
    python bench/bench_budget.py --timeout 60

Each query is compiled and evaluated once in a fresh subprocess (so a runaway one is killed at
`--timeout` seconds and cannot disturb the others), after a warm-up compile that loads the
parser and the schema; the times are the wall times of `compile` and of `evaluate` inside that
process, and its peak memory (ru_maxrss) is reported too. The machine's
load average is printed first: these are absolute times on a shared machine, to be read as
orders of magnitude (seconds vs milliseconds), not as precise figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, query, variables as Python source): each query is at most 500 code points.
ADVERSARIAL: list[tuple[str, str, str]] = [
    ("self-applied fib f(f, 30)",
     "let f = (g, n) => 1 if n <= 1 else g(g, n - 1) + g(g, n - 2); f(f, 30) > 0", "{}"),
    ("five quantifiers over 1..30",
     "some a in 1..30 satisfies some b in 1..30 satisfies some c in 1..30 satisfies some d "
     "in 1..30 satisfies some e in 1..30 satisfies a + b + c + d + e < 0", "{}"),
    ("today + 9999999 weekdays", "today + 9999999 weekdays > today", "{}"),
    ("text doubled to 10 MB",
     'let a = "abcdefghij"; let b = a & a & a & a & a & a & a & a & a & a; '
     "let c = b & b & b & b & b & b & b & b & b & b; let d = c & c & c & c & c & c & c & c & c & c; "
     "let e = d & d & d & d & d & d & d & d & d & d; let f = e & e & e & e & e & e & e & e & e & e; "
     "let g = f & f & f & f & f & f & f & f & f & f; g is \"x\"", "{}"),
    ("dedupe of 3,000 maps",
     "count of (user's xs without duplicates) is 0",
     "{'user': {'xs': [{'a': i, 'b': [i, str(i)]} for i in range(3000)]}}"),
    ("two quantifiers over 3,000 tags",
     "some a in user's tags satisfies some b in user's tags satisfies a is equal to b - 1000000",
     "{'user': {'tags': list(range(3000))}}"),
]

#: The slowest queries that still finish within the default budget.
WITHIN: list[tuple[str, str, str]] = [
    ("three quantifiers over 1..20 (8,421 steps)",
     "some a in 1..20 satisfies some b in 1..20 satisfies some c in 1..20 satisfies "
     "a + b + c < 0", "{}"),
    ("self-applied fib f(f, 18) (8,361 calls)",
     "let f = (g, n) => 1 if n <= 1 else g(g, n - 1) + g(g, n - 2); f(f, 18) > 0", "{}"),
    ("two quantifiers over 99 tags (10,000 steps)",
     "some a in user's tags satisfies some b in user's tags satisfies a is equal to b - 1000000",
     "{'user': {'tags': list(range(99))}}"),
    ("sorted 700 items (7,001 steps)", "first of (user's xs sorted) is 0",
     "{'user': {'xs': list(range(700, -1, -1))}}"),
    ("dedupe of 1,000 maps (1,001 steps)",
     "count of (user's xs without duplicates) is 0",
     "{'user': {'xs': [{'a': i, 'b': [i, str(i)]} for i in range(1000)]}}"),
]

CHILD = """
import json, resource, sys, time
query, variables = sys.argv[1], eval(sys.argv[2])
import segmentql
segmentql.compile("user's plan is 'warm'").matches({})  # parser and schema loaded
started = time.perf_counter()
compile_seconds = evaluate_seconds = 0.0
try:
    compiled = segmentql.compile(query)
    compile_seconds = time.perf_counter() - started
    started = time.perf_counter()
    try:
        value = compiled.evaluate(variables, now="2024-07-31T12:00:00Z")
        outcome = "value " + repr(value)[:40]
    except segmentql.EvaluationError as exc:
        outcome = exc.code
    evaluate_seconds = time.perf_counter() - started
except segmentql.QueryError as exc:
    outcome = "compile " + exc.diagnostics[0].code
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"compile": compile_seconds, "evaluate": evaluate_seconds,
                  "outcome": outcome, "peak_mb": peak}))
"""


def run(query: str, variables: str, src: Path, timeout: float) -> str:
    assert len(query) <= 500, query
    env = {**os.environ, "PYTHONPATH": str(src)}
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, query, variables], env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"killed after {timeout:g} s"
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1][:60]}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return (f"compile {result['compile'] * 1000:8.1f} ms  evaluate "
            f"{result['evaluate'] * 1000:9.1f} ms  peak {result['peak_mb']:5d} MB  "
            f"{result['outcome']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; src {args.src}")
    for title, rows in (("adversarial", ADVERSARIAL), ("within the budget", WITHIN)):
        print(f"\n{title}:")
        for name, query, variables in rows:
            print(f"  {name:<46} {run(query, variables, args.src, args.timeout)}")


if __name__ == "__main__":
    main()
