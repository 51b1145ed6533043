"""Audience sets: many named queries evaluated against one snapshot in one call.

Audiences are compiled into generated functions of up to `CHUNK` audiences each, whose
prologue reads each context variable and each attribute used by more than one of them once;
every audience then costs only its own tests. Only the fast path is generated up front; the
general path of a function is generated when its fast path first bails out. A failure inside the shared function (which the generated code does not
produce on data, but a host function could) falls back to evaluating each audience alone.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from itertools import compress
from typing import Any

from segmentql.compiler.codegen import CodeGenerator, CodegenError
from segmentql.compiler.query import Query, compile_query, resolve_clock, with_clock
from segmentql.diagnostics import Diagnostic, Severity
from segmentql.errors import QueryError
from segmentql.runtime.budget import DEFAULT_BUDGET, Budget

#: Audiences per generated function: the functions stay small for CPython's `compile()`
#: (whose time and memory grow with the size of one function), and reads are shared within
#: each.
CHUNK = 256


def _results_tuple(bodies: list[str]) -> str:
    """The tuple of the audiences' results, exactly True/False whatever a data value's
    `__eq__` returns."""
    return "(" + "".join(f"(True if ({body}) else False), " for body in bodies) + ")"


class _Chunk:
    """One generated function for a run of audiences: the fast path now, the general one
    (any mapping, `custom` attributes, odd values) generated when the fast path first
    bails out."""

    def __init__(
        self, roots: list[Any], functions: Mapping[str, Any] | None, budget: Budget
    ) -> None:
        self._roots = roots
        self._lock = threading.Lock()
        plain = CodeGenerator(functions=functions, plain=True, budget=budget)
        plain.prepare(roots)
        bodies = plain.generate_bodies(lambda: [plain.true(root) for root in roots])
        self._plain = plain
        self.sources = [plain.build_function(
            "_ENTRY_audiences", _results_tuple(bodies), bail="return _ENTRY_general(_v, _now, _tz)"
        )]
        self.uses_time = plain.uses_time
        plain.ns["_ENTRY_general"] = self._general_on_first_use
        exec(compile(self.sources[0], "<segmentql-audiences>", "exec"), plain.ns)
        self._fast: Callable[..., tuple[bool, ...]] = plain.ns["_ENTRY_audiences"]
        self._general: Callable[..., tuple[bool, ...]] | None = None

    def run(self, v: Any, now: Any, tz: Any) -> tuple[bool, ...]:
        """Each audience's result; the general function when the fast one raises (e.g. a
        mapping that is not a dict); its own exceptions propagate (the set then evaluates
        each audience alone)."""
        try:
            return self._fast(v, now, tz)
        except Exception:
            return self.general()(v, now, tz)

    def general(self) -> Callable[..., tuple[bool, ...]]:
        if self._general is None:
            with self._lock:
                if self._general is None:
                    roots = self._roots
                    gen = self._plain.sibling()
                    gen.prepare(roots)
                    bodies = gen.generate_bodies(lambda: [gen.true(root) for root in roots])
                    source = gen.build_function("_ENTRY_general", _results_tuple(bodies))
                    exec(compile(source, "<segmentql-audiences>", "exec"), gen.ns)
                    self.sources.append(source)
                    self.uses_time = self.uses_time or gen.uses_time
                    self._general = gen.ns["_ENTRY_general"]
        return self._general

    def _general_on_first_use(self, *args: Any) -> tuple[bool, ...]:
        return self.general()(*args)


class AudienceSet:
    """Named boolean queries compiled together (see `compile_audiences`)."""

    def __init__(
        self, queries: Mapping[str, Query], functions: Mapping[str, Any] | None,
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.queries: dict[str, Query] = dict(queries)
        self.names: tuple[str, ...] = tuple(self.queries)
        roots = [q.ast for q in self.queries.values()]
        # One meter per shared function; if it runs out, each audience is evaluated on its
        # own (with its own budget) by the fallback in `_results`.
        self._chunks = [_Chunk(roots[i:i + CHUNK], functions, budget)
                        for i in range(0, len(roots), CHUNK)]
        if len(self._chunks) == 1:
            self._all: Callable[..., Sequence[bool]] = self._chunks[0].run
        else:
            runs = [chunk.run for chunk in self._chunks]

            def run_all(v: Any, now: Any, tz: Any) -> list[bool]:
                out: list[bool] = []
                extend = out.extend
                for run in runs:
                    extend(run(v, now, tz))
                return out

            self._all = run_all
        self.uses_time = any(chunk.uses_time for chunk in self._chunks)

    @property
    def source(self) -> str:
        """The generated Python source of the shared functions (all of it: the general
        functions are generated now if they were not yet)."""
        for chunk in self._chunks:
            chunk.general()
        return "".join(source for chunk in self._chunks for source in chunk.sources)

    def __len__(self) -> int:
        return len(self.names)

    def _results(self, variables: Any, now: Any, time_zone: Any) -> Sequence[bool]:
        if not self.uses_time and now is None and time_zone in (None, "UTC"):
            try:
                return self._all(variables, None, None)
            except Exception:
                return tuple(q.matches(variables) for q in self.queries.values())
        instant, tz = resolve_clock(now, time_zone)
        try:
            results: Sequence[bool] = with_clock(instant, tz, self._all, variables, instant, tz)
        except Exception:
            return tuple(
                q.matches(variables, now=instant, time_zone=tz) for q in self.queries.values()
            )
        return results

    def evaluate(
        self,
        variables: Mapping[str, Any],
        *,
        now: dt.datetime | str | None = None,
        time_zone: str | dt.tzinfo = "UTC",
    ) -> dict[str, bool]:
        """Each audience's name → whether the variables are in it."""
        return dict(zip(self.names, self._results(variables, now, time_zone), strict=True))

    def matching(
        self,
        variables: Mapping[str, Any],
        *,
        now: dt.datetime | str | None = None,
        time_zone: str | dt.tzinfo = "UTC",
    ) -> list[str]:
        """The names of the audiences the variables are in, in definition order."""
        results = self._results(variables, now, time_zone)
        return list(compress(self.names, results))  # one result per name, C-level


def compile_audiences(
    audiences: Mapping[str, str], schema: Any = None, *, budget: Budget = DEFAULT_BUDGET
) -> AudienceSet:
    """Compile named audience queries (each must be boolean) into one `AudienceSet`; every
    audience's evaluation runs under `budget`.

    Raises `QueryError` listing every audience's diagnostics (message prefixed with the
    audience name) if any of them fails to compile.
    """
    queries: dict[str, Query] = {}
    problems: list[Diagnostic] = []
    for name, text in audiences.items():
        try:
            queries[name] = compile_query(text, schema, expect=bool, budget=budget,
                                          generate=False)
        except QueryError as exc:
            for d in exc.diagnostics:
                problems.append(Diagnostic(d.code, d.severity, f"{name}: {d.message}", d.span,
                                           d.notes, d.help, d.labels, d.suggestions))
    if problems:
        raise QueryError(problems, "")
    functions = getattr(schema, "functions", None) if schema is not None else None
    try:
        return AudienceSet(queries, functions, budget)
    except CodegenError as exc:
        raise QueryError([Diagnostic(exc.code, Severity.ERROR, exc.message, exc.span)]) from None
