"""Parse time per query over the grammar corpus, grouped by query length.

    python bench/bench_parse.py [--repeat N]

For every distinct valid query in grammar/corpus/valid, the median of N parses (after a
warm-up) is that query's time; the table shows the median and 90th percentile of those
per-query times for each length group. Target: median under 300 µs up to 200 characters.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from segmentql.syntax.parser import parse_with_diagnostics

CORPUS = Path(__file__).resolve().parents[1] / "grammar" / "corpus" / "valid"
GROUPS = ((50, "≤ 50"), (100, "≤ 100"), (200, "≤ 200"), (10**9, "> 200"))


def corpus_queries() -> list[str]:
    queries: set[str] = set()
    for path in sorted(CORPUS.glob("*.yaml")):
        queries.update(entry["query"] for entry in yaml.safe_load(path.read_text("utf-8")))
    return sorted(queries)


def time_query(query: str, repeat: int) -> float:
    """Median seconds to parse `query` once."""
    parse_with_diagnostics(query)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        parse_with_diagnostics(query)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="parses per query (default 15)")
    args = parser.parse_args()

    start = time.perf_counter()
    parse_with_diagnostics("1")
    build = time.perf_counter() - start

    times: dict[str, list[float]] = {label: [] for _, label in GROUPS}
    for query in corpus_queries():
        label = next(label for limit, label in GROUPS if len(query) <= limit)
        times[label].append(time_query(query, args.repeat) * 1e6)

    print(f"parser ready in {build * 1000:.0f} ms (first use in this process)")
    print(f"{'length':>8} {'queries':>8} {'median µs':>10} {'p90 µs':>8} {'max µs':>8}")
    for _, label in GROUPS:
        values = sorted(times[label])
        if not values:
            continue
        p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
        print(f"{label:>8} {len(values):>8} {statistics.median(values):>10.0f} {p90:>8.0f} "
              f"{values[-1]:>8.0f}")
    upto_200 = [t for label in ("≤ 50", "≤ 100", "≤ 200") for t in times[label]]
    print(f"all ≤ 200 chars: median {statistics.median(upto_200):.0f} µs over "
          f"{len(upto_200)} queries")


if __name__ == "__main__":
    main()
