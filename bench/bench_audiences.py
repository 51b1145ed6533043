"""Audience-set benchmark: compiling many varied audiences, and evaluating them all against
one profile.

Run in a fresh process (the figures include the parser's and checker's start-up only if the
process is fresh; memory is the growth of the process's peak resident set while compiling):

    python bench/bench_audiences.py             # 10,000 audiences
    python bench/bench_audiences.py --count 1000 --json out.json

Audiences come from `bench_eval.audience_texts` (six shapes over the profile's attributes,
the literal differing in each), profile P1 of `bench_eval`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_eval import P1, audience_texts

import segmentql
from segmentql.compiler import compile_audiences

perf = time.perf_counter_ns
#: CPU time of this thread: on a machine shared by more runnable processes than cores, the
#: wall clock also counts the time spent waiting for a core; this does not.
cpu = time.thread_time_ns


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(count: int, repeats: int) -> dict[str, Any]:
    load_start = os.getloadavg()
    texts = audience_texts(count)
    segmentql.compile('user\'s plan is "warm-up"')  # import and build the parser first
    gc.collect()
    rss_before = _peak_rss_mb()
    t0, c0 = perf(), cpu()
    audiences = compile_audiences(texts)
    compile_s = (perf() - t0) / 1e9
    compile_cpu_s = (cpu() - c0) / 1e9
    rss_after = _peak_rss_mb()
    prepared = segmentql.prepare(P1)
    expected = audiences.matching(P1)
    assert audiences.matching(prepared) == expected
    samples: dict[str, list[float]] = {name: [] for name in (
        "matching", "matching_prepared", "evaluate", "prepare_and_matching")}
    cpu_samples: dict[str, list[float]] = {name: [] for name in samples}
    calls = {
        "matching": lambda: audiences.matching(P1),
        "matching_prepared": lambda: audiences.matching(prepared),
        "evaluate": lambda: audiences.evaluate(P1),
        "prepare_and_matching": lambda: audiences.matching(segmentql.prepare(P1)),
    }
    for _ in range(repeats):
        for name, call in calls.items():
            start, start_cpu = perf(), cpu()
            call()
            samples[name].append((perf() - start) / 1000)
            cpu_samples[name].append((cpu() - start_cpu) / 1000)
    return {
        "machine": f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
                   f"{'/'.join(f'{x:.1f}' for x in load_start)} at the start, "
                   f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} at the end",
        "audiences": count,
        "matched": len(expected),
        "compile_s": compile_s,
        "compile_cpu_s": compile_cpu_s,
        "peak_rss_growth_mb": rss_after - rss_before,
        **{f"{name}_us_median": statistics.median(v) for name, v in samples.items()},
        **{f"{name}_us_min": min(v) for name, v in samples.items()},
        **{f"{name}_cpu_us_median": statistics.median(v) for name, v in cpu_samples.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=51)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    result = run(args.count, args.repeats)
    for key, value in result.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
