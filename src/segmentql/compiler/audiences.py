"""Audience sets: many named queries evaluated against one snapshot in one call.

All audiences are compiled into one generated function whose prologue reads each context
variable and each attribute used by more than one audience once; every audience then costs
only its own tests. A failure inside the shared function (which the generated code does not
produce on data, but a host function could) falls back to evaluating each audience alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from segmentql.compiler.codegen import CodeGenerator, CodegenError
from segmentql.compiler.query import Query, compile_query, resolve_clock, with_clock
from segmentql.diagnostics import Diagnostic, Severity
from segmentql.errors import QueryError
from segmentql.runtime.budget import DEFAULT_BUDGET, Budget


class AudienceSet:
    """Named boolean queries compiled together (see `compile_audiences`)."""

    def __init__(
        self, queries: Mapping[str, Query], functions: Mapping[str, Any] | None,
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.queries: dict[str, Query] = dict(queries)
        self.names: tuple[str, ...] = tuple(self.queries)
        # One meter for the shared function; if it runs out, each audience is evaluated on
        # its own (with its own budget) by the fallback in `_results`.
        gen = CodeGenerator(functions=functions, budget=budget)
        roots = [q.ast for q in self.queries.values()]
        gen.prepare(roots)
        bodies = gen.generate_bodies(lambda: [gen.true(root) for root in roots])
        plain = gen.sibling(plain=True)
        plain.prepare(roots)
        plain_bodies = plain.generate_bodies(lambda: [plain.true(root) for root in roots])
        # exactly True/False whatever a data value's `__eq__` returns
        general = "".join(f"(True if ({body}) else False), " for body in bodies)
        fast = "".join(f"(True if ({body}) else False), " for body in plain_bodies)
        #: The generated Python source of the shared function.
        self.source = gen.build_function("_ENTRY_general", f"({general})") + plain.build_function(
            "_ENTRY_audiences", f"({fast})", bail="return _ENTRY_general(_v, _now, _tz)"
        )
        namespace = gen.ns
        exec(compile(self.source, "<segmentql-audiences>", "exec"), namespace)
        self._all: Callable[..., tuple[bool, ...]] = namespace["_ENTRY_audiences"]
        self.uses_time = gen.uses_time or any(q.uses_time for q in self.queries.values())

    def __len__(self) -> int:
        return len(self.names)

    def _results(self, variables: Any, now: Any, time_zone: Any) -> tuple[bool, ...]:
        if not self.uses_time and now is None and time_zone in (None, "UTC"):
            try:
                return self._all(variables, None, None)
            except Exception:
                return tuple(q.matches(variables) for q in self.queries.values())
        instant, tz = resolve_clock(now, time_zone)
        try:
            results: tuple[bool, ...] = with_clock(instant, tz, self._all, variables, instant, tz)
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
        return [name for name, hit in zip(self.names, results, strict=True) if hit]


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
            queries[name] = compile_query(text, schema, expect=bool, budget=budget)
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
