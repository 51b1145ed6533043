"""Service benchmark: `segmentql serve` under wrk on 127.0.0.1, per worker count (1 and 2).

    python bench/bench_serve.py            # 5 s per run, about 1 minute
    python bench/bench_serve.py --quick    # 2 s per run

Three loads per worker count, each against a freshly started `segmentql serve` on a SQLite
store holding the example profile (`u-42`, from `segmentql/examples/events.jsonl`):

- `healthz`: `GET /healthz`, the HTTP stack alone; the **baseline** the others are a ratio of;
- `decide`: `POST /v1/decide` for the stored profile with a request context, 10 audiences;
- `events`: `POST /v1/events`, batches of 100 track events for a new device each request.

wrk (the Debian package) runs with 1 thread per worker and 16 connections per worker, so on a
2-core machine wrk competes with the service for the CPU: the figures are a floor. The 1-minute
load average before and after each run is printed, because other processes share the machine.
On a loaded machine req/s swings with the load, so each run also prints the service's **CPU
time per request** (`cpu µs`: user + system time of the `segmentql serve` processes over the
run, from /proc, divided by the requests wrk completed), which other processes barely move.
The rate limit is set high enough never to refuse a request but stays on (its cost counts).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "segmentql" / "examples"
SERVER_KEY = "sk_bench_0d8f61"

#: The 10-audience set decided on every request.
AUDIENCES = {
    "pro_users": 'user\'s plan is "pro"',
    "acme_employees": 'user\'s email ends with "@acme.com"',
    "pricing_visitors": 'session\'s landingPage matches "pricing" or page\'s url matches "pricing"',
    "engaged_readers": 'user has viewed a page with url like "blog" at least 2 times in the '
    "last 7 days",
    "berlin": 'location\'s city is "Berlin"',
    "new_visitors": "user is anonymous and session is starting",
    "big_carts": "count of cart is at least 1 and cart's total is at least 100",
    "returning_pros": 'user is returning and user\'s plan is in ["pro", "enterprise"]',
    "germans": 'location\'s countryCode is "DE" and not user\'s plan is "free"',
    "buyers": "user has placed an order in the last 30 days",
}

DECIDE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.body = '%(body)s'
"""

EVENTS_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
local counter = 0
local prefix = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  local device = prefix .. "-" .. counter
  local parts = {}
  for i = 1, 100 do
    parts[i] = '{"type":"track","anonymous_id":"d' .. device .. '","event":"pageOpened",' ..
      '"properties":{"url":"https://shop.example/p/' .. i .. '","title":"Page"}}'
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(tmp: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SEGMENTQL_SERVER_KEYS": SERVER_KEY,
           "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "segmentql", "serve", "--store", str(tmp / "profiles.sqlite"),
         "--audiences", str(tmp / "audiences.json"), "--schema", str(EXAMPLES / "schema.yaml"),
         "--workers", str(workers), "--port", str(port), "--rate-limit", "1000000",
         "--rate-burst", "1000000", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("segmentql serve did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` and its descendants (Linux /proc; NaN
    elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        proc = Path(f"/proc/{current}")
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in (proc / "task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            if current == pid:
                return float("nan")
    return total


def wrk(url: str, path: str, script: str | None, workers: int, seconds: int,
        tmp: Path) -> dict[str, float]:
    argv = ["wrk", f"-t{workers}", f"-c{16 * workers}", f"-d{seconds}s", "--latency",
            "--timeout", "5s"]
    if script is not None:
        lua = tmp / f"script-{abs(hash(script))}.lua"
        lua.write_text(script)
        argv += ["-s", str(lua)]
    output = subprocess.run([*argv, url + path], capture_output=True, text=True,
                            timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    done = re.search(r"(\d+) requests in", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else float("nan"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "requests": float(done.group(1)) if done else rps * seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per run instead of 5 s")
    parser.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    seconds = 2 if args.quick else 5
    from segmentql.state import ProfileStore

    results: list[dict[str, Any]] = []
    request = json.loads((EXAMPLES / "request.json").read_text())
    decide_body = json.dumps({"user_id": "u-42", "context": request})
    print(f"wrk {seconds} s per run, 16 connections per worker, on {os.cpu_count()} cores")
    print(f"{'workers':>7} {'load':>14} {'endpoint':>8} {'req/s':>9} {'events/s':>9} "
          f"{'p99 ms':>7} {'vs healthz':>10} {'non-2xx':>7} {'cpu µs':>7}")
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory(prefix="bench-serve-") as name:
            tmp = Path(name)
            (tmp / "audiences.json").write_text(json.dumps(AUDIENCES))
            events = [json.loads(line) for line in
                      (EXAMPLES / "events.jsonl").read_text().splitlines() if line]
            with ProfileStore.open(tmp / "profiles.sqlite") as store:
                store.apply(events)
            process, url = start(tmp, workers)
            try:
                with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {SERVER_KEY}"}
                                  ) as client:
                    check = client.post("/v1/decide", content=decide_body,
                                        headers={"Content-Type": "application/json"}).json()
                    assert len(check["audiences"]) == 10 and check["matched"], check
                runs = [
                    ("healthz", "/healthz", None),
                    ("decide", "/v1/decide",
                     DECIDE_LUA % {"key": SERVER_KEY, "body": decide_body}),
                    ("events", "/v1/events", EVENTS_LUA % {"key": SERVER_KEY}),
                ]
                baseline = None
                for label, path, script in runs:
                    before = os.getloadavg()[0]
                    cpu_before = cpu_seconds(process.pid)
                    figures = wrk(url, path, script, workers, seconds, tmp)
                    cpu = cpu_seconds(process.pid) - cpu_before
                    after = os.getloadavg()[0]
                    figures["cpu_us_per_request"] = cpu / max(figures["requests"], 1) * 1e6
                    baseline = baseline or figures["rps"]
                    per_request = 100 if label == "events" else 1
                    row = {"workers": workers, "endpoint": label, **figures,
                           "events_per_s": figures["rps"] * 100 if label == "events" else None,
                           "ratio_to_healthz": figures["rps"] / baseline,
                           "load_before": before, "load_after": after}
                    results.append(row)
                    events_s = f"{figures['rps'] * per_request:9.0f}" if label == "events" \
                        else f"{'':>9}"
                    print(f"{workers:>7} {before:6.2f}->{after:6.2f} {label:>8} "
                          f"{figures['rps']:9.0f} {events_s} {figures['p99_ms']:7.1f} "
                          f"{figures['rps'] / baseline:10.2f} {int(figures['non_2xx']):>7} "
                          f"{figures['cpu_us_per_request']:7.0f}")
            finally:
                stop(process)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
