"""Evaluation benchmark: compiled segmentql queries against hand-written Python functions.

For each audience rule (the five of `peer-benchmark.md` plus more) this measures, in one run:
- `Query.matches` of the compiled query and a hand-written function with the same
  missing-value behaviour, on the same three profiles P1/P2/P3, interleaved and paired, and
  their ratio (target <= 1.3x);
- compile time per rule: parse + check + code generation, cache bypassed (target < 1 ms for
  a five-clause rule);
- audience-set throughput: 1,000 audiences evaluated against one profile in one call.
Peers (rule-engine, growthbook, json-logic-qubit, common-expression-language: the `peers`
extra) installed are measured on rules (a)-(e) in the same run, end to end from the same
plain dicts and paired with the same hand-written functions; their answers on P1/P2/P3 are
checked ("ok*": right only because an exception counts as no match).

    python bench/bench_eval.py            # quick run (a few seconds)
    python bench/bench_eval.py --full     # more repeats
    python bench/bench_eval.py --md out.md --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from segmentql.compiler import compile_ast, compile_audiences
from segmentql.compiler.codegen import compile_source
from segmentql.compiler.query import analyze_query

perf = time.perf_counter_ns

# The profiles of peer-benchmark.md: P1 matches every rule of (a)-(e), P2 none, P3 traps.
P1: dict[str, Any] = {
    "user": {
        "id": "u1", "plan": "pro", "age": 34, "verified": True,
        "email": "ann@acme.com", "interests": ["sports", "music"],
        "address": {"city": "Berlin", "country": "DE"},
    },
    "session": {"id": "s1", "plan": "premium", "device": "mobile", "pageviews": 12},
}
P2: dict[str, Any] = {
    "user": {
        "id": "u2", "plan": "free", "age": 16, "verified": False,
        "email": "bob@example.org", "interests": ["music"],
        "address": {"city": "Paris"},
    },
    "session": {"id": "s2", "plan": "basic", "device": "desktop"},
}
P3: dict[str, Any] = {
    "user": {
        "id": "u3", "plan": "pro", "age": 18, "verified": True,
        "email": "carol@acme.com.evil.org", "interests": ["sport", "esports"],
        "address": {"city": "Munich", "country": "DE"},
    },
    "session": {"id": "s3", "plan": "premium", "device": "mobile", "pageviews": 3},
}
PROFILES = [P1, P2, P3]

# The same profiles as a store snapshot gives them: the user's traits go through a real
# `ProfileStore` (which keeps attributes that are not standard, such as `plan`, under
# `custom`), the session's attributes are custom ones; `Snapshot` is the store's own class.
STORE_IDS = {"u1": "s1", "u2": "s2", "u3": "s3"}


def store_snapshots() -> list[Any]:
    from segmentql.state import ProfileStore
    from segmentql.state.snapshot import Snapshot

    store = ProfileStore()
    out = []
    for profile in PROFILES:
        user = dict(profile["user"])
        user_id = user.pop("id")
        store.apply([{"type": "identify", "user_id": user_id, "traits": user}])
        variables = dict(store.snapshot(user_id=user_id).items())
        session = dict(profile["session"])
        variables["session"] = {"id": session.pop("id"), "custom": session}
        out.append(Snapshot(variables))
    return out


def prepared_profiles() -> list[Any]:
    """The plain profiles prepared once (`segmentql.prepare`), as a request would."""
    from segmentql import prepare

    return [prepare(p) for p in PROFILES]


def _user(v: Any) -> Any:
    return v.get("user") or {}


def _num(x: Any) -> bool:
    return type(x) in (int, float)


def base_a(v: Any) -> bool:
    return bool((v.get("user") or {}).get("plan") == "pro")


def base_b(v: Any) -> bool:
    u = v.get("user") or {}
    age = u.get("age")
    return bool(
        u.get("plan") == "pro" and type(age) in (int, float) and age >= 18
        and u.get("verified") is True
    )


def base_c(v: Any) -> bool:
    email = (v.get("user") or {}).get("email")
    return type(email) is str and email.endswith("@acme.com")


def base_d(v: Any) -> bool:
    interests = (v.get("user") or {}).get("interests")
    return type(interests) is list and "sports" in interests


def base_e(v: Any) -> bool:
    u = v.get("user") or {}
    s = v.get("session") or {}
    a = u.get("address") or {}
    city = a.get("city")
    pageviews = s.get("pageviews")
    return bool(
        (city == "Berlin" or city == "Munich")
        and s.get("plan") == "premium"
        and a.get("country") != "FR"
        and (u.get("referrer") == "partner" or (type(pageviews) is int and pageviews > 10))
    )


def base_f(v: Any) -> bool:
    u = v.get("user") or {}
    age = u.get("age")
    return bool(type(age) is int and 18 <= age <= 65 and u.get("plan") in ("pro", "team"))


def base_g(v: Any) -> bool:
    interests = (v.get("user") or {}).get("interests")
    return type(interests) is list and ("sports" in interests or "travel" in interests)


def base_h(v: Any) -> bool:
    email = (v.get("user") or {}).get("email")
    if type(email) is str and email.lower().endswith("@acme.com"):
        return True
    return bool((v.get("session") or {}).get("device") == "desktop")


def base_i(v: Any) -> bool:
    u = v.get("user") or {}
    interests = u.get("interests")
    return bool(
        u.get("verified") is not False
        and type(interests) is list and len(interests) >= 2
    )


RULES: dict[str, tuple[str, str, Callable[[Any], bool], list[bool]]] = {
    "a": ("plan is pro", 'user\'s plan is "pro"', base_a, [True, False, True]),
    "b": (
        "plan, age >= 18, verified",
        'user\'s plan is "pro" and user\'s age >= 18 and user\'s verified is true',
        base_b, [True, False, True],
    ),
    "c": ("email ends with", 'user\'s email ends with "@acme.com"', base_c, [True, False, False]),
    "d": ("list membership", 'user\'s interests include "sports"', base_d, [True, False, False]),
    "e": (
        "6 clauses, nested, referrer missing",
        '(user\'s address\'s city is "Berlin" or user\'s address\'s city is "Munich") '
        'and session\'s plan is "premium" and not user\'s address\'s country is "FR" '
        'and (user\'s referrer is "partner" or session\'s pageviews > 10)',
        base_e, [True, False, False],
    ),
    "f": (
        "between and in",
        'user\'s age is between 18 and 65 and user\'s plan is in ["pro", "team"]',
        base_f, [True, False, True],
    ),
    "g": (
        "contains either",
        'user\'s interests contains either ["sports", "travel"]',
        base_g, [True, False, False],
    ),
    "h": (
        "regex or equality",
        'user\'s email matches ~/@acme\\.com$/i or session\'s device is "desktop"',
        base_h, [True, True, False],
    ),
    "i": (
        "not false and count",
        'not (user\'s verified is false) and count of user\'s interests >= 2',
        base_i, [True, False, True],
    ),
}


def _loop(f: Callable[[Any], Any], n: int, profiles: list[Any] = PROFILES) -> int:
    t0 = perf()
    for _ in range(n):
        for p in profiles:
            f(p)
    return perf() - t0


def _calibrate(f: Callable[[Any], Any], target_ns: int) -> int:
    return _calibrate_with(_loop, f, target_ns)


def _calibrate_with(loop: Callable[[Callable[[Any], Any], int], int], f: Callable[[Any], Any],
                    target_ns: int) -> int:
    n = 1
    while True:
        t = loop(f, n)
        if t >= target_ns // 4:
            return max(1, int(n * target_ns / max(t, 1)))
        n *= 4


def paired(base: Callable[[Any], Any], ours: Callable[[Any], Any], repeats: int,
           target_ns: int, inputs: list[Any] = PROFILES) -> tuple[float, float, float]:
    """ns per call of each, interleaved run by run: the minimum over runs (the least
    disturbed by other processes on a shared machine), and the median of the ratios of
    the runs taken side by side (adjacent in time, so a change of load cancels out).
    `base` always reads the plain profiles; `ours` reads `inputs` (the same profiles as
    plain dicts, prepared, or store snapshots)."""
    n_base = _calibrate(base, target_ns)
    n_ours = _calibrate_with(lambda f, n: _loop(f, n, inputs), ours, target_ns)
    b: list[float] = []
    o: list[float] = []
    gc.disable()
    try:
        for _ in range(repeats):
            b.append(_loop(base, n_base) / (n_base * len(PROFILES)))
            o.append(_loop(ours, n_ours, inputs) / (n_ours * len(PROFILES)))
    finally:
        gc.enable()
    return min(b), min(o), statistics.median(x / y for x, y in zip(o, b, strict=True))


def compile_time_us(text: str, repeats: int) -> dict[str, float]:
    """Median µs, cold (the query cache bypassed, the code-object cache shared by queries of
    one shape emptied before each run): parse + check + code generation ("total"), parse +
    check ("check"), code generation ("codegen": the Python source; CPython's `compile()`
    of it is deferred to the first call), and the first `matches` call ("first_call": that
    `compile()` and the call). "codegen_warm" is code generation when a query of the same
    shape was compiled before (its code object is reused, nothing is deferred)."""
    total: list[float] = []
    check: list[float] = []
    codegen: list[float] = []
    first: list[float] = []
    warm: list[float] = []
    total_cpu: list[float] = []
    for _ in range(repeats):
        compile_source.cache_clear()
        c0 = time.thread_time_ns()
        t0 = perf()
        ast, diagnostics = analyze_query(text, None, bool)
        t1 = perf()
        query = compile_ast(ast, text, diagnostics=diagnostics)
        t2 = perf()
        total_cpu.append((time.thread_time_ns() - c0) / 1000)
        query.matches(P1)
        t3 = perf()
        compile_ast(ast, text, diagnostics=diagnostics)
        t4 = perf()
        total.append((t2 - t0) / 1000)
        check.append((t1 - t0) / 1000)
        codegen.append((t2 - t1) / 1000)
        first.append((t3 - t2) / 1000)
        warm.append((t4 - t3) / 1000)
    return {"total": statistics.median(total), "check": statistics.median(check),
            "codegen": statistics.median(codegen), "first_call": statistics.median(first),
            "codegen_warm": statistics.median(warm), "total_cpu": statistics.median(total_cpu)}


#: The compile-time target's yardstick: a five-clause rule of the usual kind.
FIVE_CLAUSES = (
    'user\'s plan is "pro" and user\'s age >= 18 and user\'s verified is true '
    'and user\'s email ends with "@acme.com" and user\'s interests include "sports"'
)


def reference_compile_us(repeats: int = 51) -> float:
    """CPython's own `compile()` of a plain 1 KB function: the machine's yardstick for
    compile times (code generation ends in one such call)."""
    source = "def f(p):\n" + "".join(
        f"    x{i} = p.get('a{i}') if p is not None else None\n" for i in range(20)
    ) + "    return x1\n"
    samples = []
    for _ in range(repeats):
        t0 = perf()
        compile(source, "<reference>", "exec")
        samples.append((perf() - t0) / 1000)
    return statistics.median(samples)


def audience_texts(count: int) -> dict[str, str]:
    """`count` distinct audiences built from a few shapes over the profiles' attributes."""
    shapes = [
        'user\'s plan is "plan{i}"',
        'user\'s age >= {i} and user\'s verified is true',
        'user\'s email ends with "@domain{i}.com"',
        'user\'s interests include "topic{i}"',
        'user\'s address\'s city is "City{i}" or session\'s pageviews > {i}',
        'session\'s plan is "tier{i}" and not (user\'s address\'s country is "C{i}")',
    ]
    return {f"aud{i}": shapes[i % len(shapes)].format(i=i) for i in range(count)}


def audience_throughput(count: int, repeats: int) -> dict[str, float]:
    t0 = perf()
    audiences = compile_audiences(audience_texts(count))
    compile_s = (perf() - t0) / 1e9
    evaluate = audiences.evaluate
    n = 50
    samples = []
    for _ in range(repeats):
        start = perf()
        for _ in range(n):
            evaluate(P1)
        samples.append((perf() - start) / n)
    per_call = min(samples)
    separate = [audiences.queries[name].matches for name in audiences.names]
    one_by_one = float("inf")
    for _ in range(repeats + 2):
        start = perf()
        for f in separate:
            f(P1)
        one_by_one = min(one_by_one, perf() - start)
    return {
        "audiences": count,
        "compile_s": compile_s,
        "us_per_set": per_call / 1000,
        "ns_per_audience": per_call / count,
        "sets_per_second": 1e9 / per_call,
        "one_by_one_us": one_by_one / 1000,
    }


# Peers: the same rules (a)-(e) written in each peer's own language, as in peer-benchmark.md.
# Each adapter turns a rule text into a callable over the plain profile dict (so any data
# conversion the peer needs is inside the timing: the end-to-end cost per rule and profile).
PEER_RULES: dict[str, dict[str, str]] = {
    "rule-engine": {
        "a": "user['plan'] == 'pro'",
        "b": "user['plan'] == 'pro' and user['age'] >= 18 and user['verified']",
        "c": "user['email'].ends_with('@acme.com')",
        "d": "'sports' in user['interests']",
        # Written as a user would; item access raises on the missing `referrer` even where
        # the other side of the `or` is true (the note's trap), so it is reported wrong.
        "e": "(user['address']['city'] == 'Berlin' or user['address']['city'] == 'Munich') "
             "and session['plan'] == 'premium' and not user['address']['country'] == 'FR' "
             "and (user['referrer'] == 'partner' or session['pageviews'] > 10)",
        "f": "user['age'] >= 18 and user['age'] <= 65 and user['plan'] in ['pro', 'team']",
        "g": "'sports' in user['interests'] or 'travel' in user['interests']",
        # `=~~` searches (`=~` is anchored at the start, like re.match).
        "h": "user['email'] =~~ '(?i)@acme\\.com$' or session['device'] == 'desktop'",
        "i": "not user['verified'] == false and user['interests'].length >= 2",
    },
    "growthbook": {
        "a": json.dumps({"user.plan": "pro"}),
        "b": json.dumps({"user.plan": "pro", "user.age": {"$gte": 18}, "user.verified": True}),
        "c": json.dumps({"user.email": {"$regex": "@acme\\.com$"}}),
        "d": json.dumps({"user.interests": {"$elemMatch": {"$eq": "sports"}}}),
        "e": json.dumps({
            "$or": [{"user.address.city": "Berlin"}, {"user.address.city": "Munich"}],
            "session.plan": "premium",
            "$not": {"user.address.country": "FR"},
            "$and": [{"$or": [{"user.referrer": "partner"},
                              {"session.pageviews": {"$gt": 10}}]}],
        }),
        "f": json.dumps({"user.age": {"$gte": 18, "$lte": 65},
                         "user.plan": {"$in": ["pro", "team"]}}),
        "g": json.dumps({"user.interests": {"$in": ["sports", "travel"]}}),
        "h": json.dumps({"$or": [{"user.email": {"$regex": "(?i)@acme\\.com$"}},
                                 {"session.device": "desktop"}]}),
        "i": json.dumps({"user.verified": {"$ne": False},
                         "user.interests": {"$size": {"$gte": 2}}}),
    },
    "json-logic-qubit": {
        "a": json.dumps({"==": [{"var": "user.plan"}, "pro"]}),
        "b": json.dumps({"and": [{"==": [{"var": "user.plan"}, "pro"]},
                                 {">=": [{"var": "user.age"}, 18]},
                                 {"==": [{"var": "user.verified"}, True]}]}),
        # No ends-with operator: the last nine characters instead.
        "c": json.dumps({"==": [{"substr": [{"var": "user.email"}, -9]}, "@acme.com"]}),
        "d": json.dumps({"in": ["sports", {"var": "user.interests"}]}),
        "e": json.dumps({"and": [
            {"or": [{"==": [{"var": "user.address.city"}, "Berlin"]},
                    {"==": [{"var": "user.address.city"}, "Munich"]}]},
            {"==": [{"var": "session.plan"}, "premium"]},
            {"!": {"==": [{"var": "user.address.country"}, "FR"]}},
            {"or": [{"==": [{"var": "user.referrer"}, "partner"]},
                    {">": [{"var": "session.pageviews"}, 10]}]},
        ]}),
        "f": json.dumps({"and": [{"<=": [18, {"var": "user.age"}, 65]},
                                 {"in": [{"var": "user.plan"}, ["pro", "team"]]}]}),
        "g": json.dumps({"or": [{"in": ["sports", {"var": "user.interests"}]},
                                {"in": ["travel", {"var": "user.interests"}]}]}),
        # No regex and no count operator: (h) and (i) cannot be written.
    },
    "common-expression-language": {
        "a": 'user.plan == "pro"',
        "b": 'user.plan == "pro" && user.age >= 18 && user.verified',
        "c": 'user.email.endsWith("@acme.com")',
        "d": '"sports" in user.interests',
        # CEL absorbs errors in && and ||, but raises when the missing key decides (P3).
        "e": '(user.address.city == "Berlin" || user.address.city == "Munich") '
             '&& session.plan == "premium" && !(user.address.country == "FR") '
             '&& (user.referrer == "partner" || session.pageviews > 10)',
        "f": 'user.age >= 18 && user.age <= 65 && user.plan in ["pro", "team"]',
        "g": '"sports" in user.interests || "travel" in user.interests',
        "h": 'user.email.matches("(?i)@acme\\\\.com$") || session.device == "desktop"',
        "i": '!(user.verified == false) && size(user.interests) >= 2',
    },
}


def _rule_engine(text: str) -> Callable[[Any], Any]:
    import rule_engine  # type: ignore[import-untyped]

    return rule_engine.Rule(text).matches  # type: ignore[no-any-return]


def _growthbook(text: str) -> Callable[[Any], Any]:
    from growthbook.core import evalCondition

    condition = json.loads(text)
    return lambda profile: evalCondition(profile, condition)


def _json_logic(text: str) -> Callable[[Any], Any]:
    from json_logic import jsonLogic  # type: ignore[import-untyped]

    logic = json.loads(text)
    return lambda profile: jsonLogic(logic, profile)


def _cel(text: str) -> Callable[[Any], Any]:
    import cel

    # `execute` takes the plain dict; converting it costs the same as building a cel.Context.
    return cel.compile(text).execute


#: distribution -> (import name, adapter from rule text to a callable over the plain dict).
PEERS: dict[str, tuple[str, Callable[[str], Callable[[Any], Any]]]] = {
    "rule-engine": ("rule_engine", _rule_engine),
    "growthbook": ("growthbook", _growthbook),
    "json-logic-qubit": ("json_logic", _json_logic),
    "common-expression-language": ("cel", _cel),
}


def peers() -> dict[str, str]:
    """The installed peers, distribution name -> version."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist, (module, _adapter) in PEERS.items():
        try:
            __import__(module)
            found[dist] = version(dist)
        except (ImportError, PackageNotFoundError):
            pass
    return found


def _loop_absorbing(f: Callable[[Any], Any], n: int) -> int:
    """`_loop` where an exception counts as an answer (no match), as a caller would treat it."""
    profiles = PROFILES
    t0 = perf()
    for _ in range(n):
        for p in profiles:
            try:  # noqa: SIM105 (contextlib.suppress costs a context manager per call)
                f(p)
            except Exception:
                pass
    return perf() - t0


def _outcome(f: Callable[[Any], Any], profile: Any) -> str:
    try:
        result = f(profile)
    except Exception as e:
        return "error " + type(e).__name__
    if result is True or result is False:
        return "T" if result else "F"
    return "null" if result is None else f"{type(result).__name__} {result!r}"


def _verdict(outcomes: list[str], expected: list[bool]) -> str:
    """"ok"; "ok*" when an expected no-match came back as an error or null (right only if
    the caller counts those as no-match); "wrong" otherwise."""
    verdict = "ok"
    for got, want in zip(outcomes, expected, strict=True):
        if got in ("T", "F"):
            if (got == "T") != want:
                return "wrong"
        elif want:
            return "wrong"
        else:
            verdict = "ok*"
    return verdict


def measure_peers(repeats: int, target_ns: int) -> list[dict[str, Any]]:
    """Each installed peer on the rules it can express, end to end from the plain profile
    dict, paired with the same hand-written baseline as segmentql (interleaved runs)."""
    rows: list[dict[str, Any]] = []
    installed = peers()
    for dist, version in installed.items():
        _module, adapter = PEERS[dist]
        for rule_id, text in PEER_RULES[dist].items():
            _title, _query, base, expected = RULES[rule_id]
            try:
                f = adapter(text)
            except Exception as e:
                rows.append({"peer": dist, "version": version, "rule": rule_id, "text": text,
                             "error": f"{type(e).__name__}: {e}"})
                continue
            outcomes = [_outcome(f, p) for p in PROFILES]
            n_base = _calibrate(base, target_ns)
            n_peer = max(1, _calibrate_with(_loop_absorbing, f, target_ns))
            b: list[float] = []
            o: list[float] = []
            gc.disable()
            try:
                for _ in range(repeats):
                    b.append(_loop(base, n_base) / (n_base * len(PROFILES)))
                    o.append(_loop_absorbing(f, n_peer) / (n_peer * len(PROFILES)))
            finally:
                gc.enable()
            row = {
                "peer": dist, "version": version, "rule": rule_id, "text": text,
                "base_ns": min(b), "peer_ns": min(o),
                "pair_ratio": statistics.median(x / y for x, y in zip(o, b, strict=True)),
                "outcomes": outcomes, "verdict": _verdict(outcomes, expected),
            }
            rows.append(row)
            print(f"peer {dist:28s} ({rule_id}) {row['peer_ns']:9.0f} ns  ratio "
                  f"{row['pair_ratio']:6.1f}x  {'/'.join(outcomes)} {row['verdict']}",
                  file=sys.stderr, flush=True)
    return rows


def run(full: bool, rules_only: bool = False) -> dict[str, Any]:
    # Many short runs, alternating: on a shared machine a run is often cut by another
    # process; short ones are cut less often, and the median of pair ratios ignores those.
    repeats = 301 if full else 101
    target = 1_000_000 if full else 500_000
    rows = []
    load_start = os.getloadavg()
    snapshots = store_snapshots()
    prepared = prepared_profiles()
    for rule_id, (title, text, base, expected) in RULES.items():
        ast, diagnostics = analyze_query(text, None, bool)
        query = compile_ast(ast, text, diagnostics=diagnostics)
        got = [query.matches(p) for p in PROFILES]
        assert [base(p) for p in PROFILES] == expected, (rule_id, "baseline")
        assert got == expected, (rule_id, got, expected)
        assert [query.matches(p) for p in snapshots] == expected, (rule_id, "snapshots")
        assert [query.matches(p) for p in prepared] == expected, (rule_id, "prepared")
        base_ns, ours_ns, pair_ratio = paired(base, query.matches, repeats, target)
        _, snap_ns, snap_ratio = paired(base, query.matches, repeats, target, snapshots)
        _, prep_ns, prep_ratio = paired(base, query.matches, repeats, target, prepared)
        times = compile_time_us(text, 30 if full else 15)
        clauses = sum(1 for n in ast.walk() if type(n).__name__ in ("Test", "Comparison"))
        rows.append({
            "rule": rule_id, "title": title, "query": text, "clauses": clauses,
            "base_ns": base_ns, "ours_ns": ours_ns, "ratio": ours_ns / base_ns,
            "pair_ratio": pair_ratio,
            "snapshot_ns": snap_ns, "snapshot_ratio": snap_ratio,
            "prepared_ns": prep_ns, "prepared_ratio": prep_ratio,
            "compile_us": times["total"], "check_us": times["check"],
            "codegen_us": times["codegen"], "codegen_warm_us": times["codegen_warm"],
            "first_call_us": times["first_call"], "results": got,
        })
        print(f"({rule_id}) {title:38s} base {base_ns:6.0f} ns  segmentql {ours_ns:6.0f} ns"
              f"  ratio {ours_ns / base_ns:4.2f}x (pairs {pair_ratio:4.2f}x; store snapshots"
              f" {snap_ratio:4.2f}x, prepared {prep_ratio:4.2f}x)  compile {times['total']:6.0f} us"
              f" (parse+check {times['check']:4.0f}, codegen {times['codegen']:4.0f},"
              f" warm {times['codegen_warm']:3.0f})", file=sys.stderr, flush=True)
    if rules_only:
        return {"rules": rows}
    five = compile_time_us(FIVE_CLAUSES, 101 if full else 31)
    print(f"five-clause rule: compile {five['total']:.0f} us (CPU {five['total_cpu']:.0f} us;"
          f" parse+check {five['check']:.0f},"
          f" codegen {five['codegen']:.0f}, warm {five['codegen_warm']:.0f}); first call "
          f"{five['first_call']:.0f} us", file=sys.stderr)
    audiences = audience_throughput(1000, 5 if full else 3)
    # Peers cost 10-1000x more per call: fewer repeats keep the quick run short.
    peer_rows = measure_peers(41 if full else 15, target * 4)
    print(f"1,000 audiences: {audiences['us_per_set']:.0f} us per profile "
          f"({audiences['ns_per_audience']:.0f} ns per audience)", file=sys.stderr)
    return {
        "machine": f"Python {platform.python_version()} ({platform.python_implementation()}), "
                   f"{platform.machine()}, {os.cpu_count()} CPUs, load average (1, 5, 15 min) "
                   f"{_load(load_start)} at the start, {_load(os.getloadavg())} at the end",
        "mode": "full" if full else "quick",
        "rules": rows,
        "five_clauses": {"query": FIVE_CLAUSES, **five},
        "audiences": audiences,
        "peers": peers(),
        "peer_rows": peer_rows,
        "reference_compile_us": reference_compile_us(),
    }


def _load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in load)


def markdown(result: dict[str, Any]) -> str:
    out = [
        f"Machine: {result['machine']}; mode: {result['mode']}.",
        "",
        "| rule | query | hand-written ns | segmentql ns, plain dicts | × hand-written, "
        "plain dicts | × hand-written, `prepare`d | × hand-written, store snapshots | "
        "fastest peer ÷ segmentql, fastest runs (plain / prepared / snapshots) | compile µs cold "
        "(parse+check / codegen) | first call µs | codegen µs, shape seen |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lead = peer_lead(result)
    for r in result["rules"]:
        query = r["query"].replace("|", "\\|")
        ahead = lead.get(r["rule"])
        ahead_cell = "—" if ahead is None else (
            f"{ahead[1]:.1f}× / {ahead[2]:.1f}× / {ahead[3]:.1f}× ({ahead[0]})")
        out.append(
            f"| ({r['rule']}) {r['title']} | `{query}` | {r['base_ns']:.0f} | "
            f"{r['ours_ns']:.0f} | {r['pair_ratio']:.2f}× | {r['prepared_ratio']:.2f}× | "
            f"{r['snapshot_ratio']:.2f}× | {ahead_cell} | "
            f"{r['compile_us']:.0f} ({r['check_us']:.0f} / {r['codegen_us']:.0f}) | "
            f"{r['first_call_us']:.0f} | {r['codegen_warm_us']:.0f} |"
        )
    a = result["audiences"]
    five = result["five_clauses"]
    out += [
        "",
        f"Five-clause rule `{five['query']}`: compile {five['total']:.0f} µs cold "
        f"({five['total_cpu']:.0f} µs of CPU time) "
        f"(parse + check {five['check']:.0f}, codegen {five['codegen']:.0f}); the first "
        f"`matches` call, which runs CPython's `compile()` of the generated source, "
        f"{five['first_call']:.0f} µs; codegen {five['codegen_warm']:.0f} µs with the shape "
        f"seen.",
        "",
        f"Audience set: {a['audiences']:,} audiences compiled in {a['compile_s']:.2f} s; "
        f"one `AudienceSet.evaluate` against one profile takes {a['us_per_set']:.0f} µs "
        f"({a['ns_per_audience']:.0f} ns per audience, {a['sets_per_second']:,.0f} profiles/s); "
        f"calling the 1,000 queries one by one takes {a['one_by_one_us']:.0f} µs.",
        "",
        f"Yardstick: CPython `compile()` of a plain 1 KB function takes "
        f"{result['reference_compile_us']:.0f} µs on this machine in this run.",
        "",
    ]
    out += peers_markdown(result)
    return "\n".join(out) + "\n"


def peer_lead(result: dict[str, Any]) -> dict[str, tuple[str, float, float, float]]:
    """Per rule: the fastest correct peer and how many times segmentql is ahead of it from
    plain dicts, prepared variables and store snapshots: the ratio of the fastest runs'
    times per call (the runs least disturbed by other processes; a peer's runs are longer
    than segmentql's, so under load their pair ratios are disturbed more)."""
    out: dict[str, tuple[str, float, float, float]] = {}
    rows = {r["rule"]: r for r in result["rules"]}
    for row in result.get("peer_rows", []):
        if "error" in row or row["verdict"] == "wrong":
            continue
        ours = rows[row["rule"]]
        best = out.get(row["rule"])
        peer = row["peer_ns"]
        if best is None or peer / ours["ours_ns"] < best[1]:
            out[row["rule"]] = (row["peer"], peer / ours["ours_ns"],
                                peer / ours["prepared_ns"], peer / ours["snapshot_ns"])
    return out


def _cost(ns: float, ratio: float) -> str:
    return f"{ratio:,.0f}× ({ns / 1000:,.1f} µs)" if ratio >= 10 else f"{ratio:.1f}× ({ns:,.0f} ns)"


def peers_markdown(result: dict[str, Any]) -> list[str]:
    """The peer table: per peer and rule, the ratio to the hand-written baseline (median of
    pairs) and ns per call from the plain dict, flagged when an answer on P1/P2/P3 is wrong
    ("!") or right only because an exception counts as no match ("*")."""
    if not result["peers"]:
        return ["", "Peers: none installed (`pip install -e '.[peers]'` to compare)."]
    rule_ids = list(RULES)
    by = {(r["peer"], r["rule"]): r for r in result["peer_rows"]}
    out = [
        "",
        "Peers: " + ", ".join(f"{d} {v}" for d, v in result["peers"].items()) + ". Cell: "
        "× the hand-written function (median of pairs), and time per call from the plain "
        "dict; `!` wrong answer, `*` right only because an exception counts as no match, "
        "`—` not expressible.",
        "",
        "| | " + " | ".join(f"({k})" for k in rule_ids) + " |",
        "|---|" + "---:|" * len(rule_ids),
        "| hand-written | " + " | ".join(f"{r['base_ns']:,.0f} ns" for r in result["rules"])
        + " |",
        "| segmentql | " + " | ".join(_cost(r["ours_ns"], r["pair_ratio"])
                                     for r in result["rules"]) + " |",
    ]
    flagged = []
    for dist in result["peers"]:
        cells = []
        for k in rule_ids:
            r = by.get((dist, k))
            if r is None:
                cells.append("—")
            elif "error" in r:
                cells.append("error")
                flagged.append(f"{dist} ({k}): {r['error']}")
            else:
                mark = {"ok": "", "ok*": "*", "wrong": "!"}[r["verdict"]]
                cells.append(_cost(r["peer_ns"], r["pair_ratio"]) + mark)
                if mark:
                    flagged.append(f"{dist} ({k}) on P1/P2/P3: {' / '.join(r['outcomes'])}")
        out.append(f"| {dist} | " + " | ".join(cells) + " |")
    if flagged:
        out += ["", "Flagged answers: " + "; ".join(flagged) + "."]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="more repeats, longer runs")
    parser.add_argument("--md", help="write the markdown table here")
    parser.add_argument("--json", help="write the raw results here")
    parser.add_argument("--rules-only", action="store_true",
                        help="only the evaluation ratios (no compile, audience or peer figures)")
    args = parser.parse_args()
    result = run(args.full, args.rules_only)
    if args.rules_only:
        return 0
    text = markdown(result)
    print(text)
    if args.md:
        with open(args.md, "w", encoding="utf-8") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
