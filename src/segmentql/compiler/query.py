"""`compile_query` and `Query`: text → checked AST → generated Python → callable.

A `Query` holds three generated functions compiled from one module source:
`_evaluate(_v, _now, _tz)` (the full value, errors as values), `_matches(...)` (a plain
bool, the truth-mode rendering) and `_trace(_v, _now, _tz, _rec)` (the value with every
clause reported to `_rec`, for `explain`). When a query does not read the clock, `matches`
is the generated function itself, so an audience check costs one Python call.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from segmentql.compiler.codegen import CodeGenerator, CodegenError, compile_source
from segmentql.compiler.contracts import failure, guarded_namespace
from segmentql.diagnostics import Diagnostic, Severity, Span, has_errors, sort_diagnostics
from segmentql.errors import EvaluationError, QueryError
from segmentql.runtime.access import CURRENT_NOW
from segmentql.runtime.budget import CURRENT_BUDGET, DEFAULT_BUDGET, Budget, BudgetExceeded
from segmentql.runtime.errors import ErrorValue
from segmentql.runtime.events import EventReport
from segmentql.runtime.temporal import Duration, parse_datetime, zone
from segmentql.runtime.values import CURRENT_ZONE
from segmentql.syntax import ast as A

if TYPE_CHECKING:
    from segmentql.compiler.explain import Explanation


def with_clock(instant: dt.datetime, tz: dt.tzinfo, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` with the evaluation's `now` and zone visible to runtime helpers that have
    no clock argument (virtual `age`, date parts, mixed date/datetime comparisons)."""
    t_zone = CURRENT_ZONE.set(tz)
    t_now = CURRENT_NOW.set(instant)
    try:
        return fn(*args)
    finally:
        CURRENT_NOW.reset(t_now)
        CURRENT_ZONE.reset(t_zone)


def resolve_clock(
    now: dt.datetime | str | None, time_zone: str | dt.tzinfo | None
) -> tuple[dt.datetime, dt.tzinfo]:
    """The evaluation's instant and zone from the `now`/`time_zone` arguments."""
    if time_zone is None or time_zone == "UTC":
        tz: dt.tzinfo = dt.UTC
    elif isinstance(time_zone, dt.tzinfo):
        tz = time_zone
    else:
        try:
            tz = zone(str(time_zone))
        except ValueError as exc:
            raise EvaluationError(str(exc), Span(0, 0), "Q310") from None
    if now is None:
        return dt.datetime.now(dt.UTC), tz
    if isinstance(now, str):
        parsed = parse_datetime(now, tz)
        if parsed is None:
            raise EvaluationError(f"'now' is not an ISO date-time: {now!r}", Span(0, 0), "Q310")
        return parsed, tz
    if not isinstance(now, dt.datetime):
        raise EvaluationError("'now' must be a datetime or an ISO string", Span(0, 0), "Q310")
    if now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    try:  # an instant every clock name can be computed from, in UTC and in the zone
        now.astimezone(dt.UTC)
        now.astimezone(tz)
    except (OverflowError, ValueError):
        raise EvaluationError(f"'now' is out of the supported date range: {now.isoformat()}",
                              Span(0, 0), "Q310") from None
    return now, tz


def export(value: Any, depth: int = 0) -> Any:
    """Results handed to callers: tuples (folded constants) become lists, recursively.

    An error value nested in a collection makes the whole result that error (errors never
    escape into lists or maps); cyclic or very deep data is an error (Q300)."""
    cls = value.__class__
    if cls is tuple or cls is list or cls is dict:
        if depth > _EXPORT_DEPTH:
            return ErrorValue("Q300", "result nested too deeply (or cyclic)", Span(0, 0))
        items = value.items() if cls is dict else enumerate(value)
        out_items = []
        for k, v in items:
            item = export(v, depth + 1)
            if item.__class__ is ErrorValue:
                return item
            out_items.append((k, item))
        if cls is dict:
            return dict(out_items)
        return [v for _, v in out_items]
    return value


_EXPORT_DEPTH = 200


def json_value(value: Any, depth: int = 0) -> Any:
    """A result as JSON data: decimals as numbers (text if not exactly a float), dates as
    ISO text, durations as ISO-8601 durations, errors as `{"error": {...}}`. Strict JSON:
    a NaN or infinite float is the text `"NaN"`, `"Infinity"`, `"-Infinity"`; data nested
    deeper than 64 levels (or cyclic) is cut with the text `"…"`."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (math.inf, -math.inf):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "NaN" if value.is_nan() else ("Infinity" if value > 0 else "-Infinity")
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else format(value, "f")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Duration):
        return value.isoformat()
    if isinstance(value, ErrorValue):
        return {"error": value.to_json()}
    if isinstance(value, Mapping | list | tuple) and depth >= _JSON_DEPTH:
        return "…"
    if isinstance(value, Mapping):
        return {str(k): json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v, depth + 1) for v in value]
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


_JSON_DEPTH = 64


_MATCH_PARAMS = "_v, now=None, time_zone=None, _now=None, _tz=None"


class Query:
    """A compiled query. Thread-safe: evaluation keeps no state between calls."""

    def __init__(
        self,
        text: str,
        ast: A.Node,
        diagnostics: list[Diagnostic],
        *,
        functions: Mapping[str, Any] | None = None,
        budget: Budget = DEFAULT_BUDGET,
        generate: bool = True,
    ) -> None:
        self.text = text
        #: The evaluation budget every evaluation of this query runs under.
        self.budget = budget
        self.ast = ast
        #: Warnings and notes from the checker (errors make compilation fail).
        self.diagnostics = diagnostics
        # Only the hot path (`matches` on plain dicts) is generated now; `evaluate`,
        # `explain` and the general `matches` (non-dict variables, `custom` attributes) are
        # generated on first use, so compiling an audience stays cheap. With `generate`
        # False (a query of an audience set, which has its own code) nothing is generated
        # before the query is used on its own.
        self._lock = threading.RLock()
        self._functions = functions
        self._match_fn: Callable[..., bool] | None = None
        self._evaluate_fn: Callable[..., Any] | None = None
        self._trace_fn: Callable[..., Any] | None = None
        self._trace_nodes: dict[int, A.Node] = {}
        self._uses_time: bool | None = None
        if generate:
            self._generate()
        else:
            self.matches = self._first_match  # type: ignore[method-assign]

    @property
    def uses_time(self) -> bool:
        """The query reads the clock (`now`, dates, durations)."""
        if self._uses_time is None:
            self._generate()
        return bool(self._uses_time)

    def _generate(self) -> None:
        """Generate the source of `matches`' hot path (compiled now if a query of the same
        shape was compiled before, else on the first call)."""
        with self._lock:
            if self._uses_time is not None:
                return
            self._generate_matches()

    def _generate_matches(self) -> None:
        ast = self.ast
        plain = CodeGenerator(functions=self._functions, plain=True, budget=self.budget)
        plain.prepare([ast])
        (plain_code,) = plain.generate_bodies(lambda: [plain.true(ast)])
        self._last_generator = plain
        self._uses_time = plain.uses_time
        if self._uses_time:
            params, general = _MATCH_PARAMS, "_ENTRY_general(_v, now, time_zone, _now, _tz)"
        else:  # the clock is never read: a shorter signature is a cheaper call
            params, general = "_v, now=None, time_zone=None", "_ENTRY_general(_v)"
        source = plain.build_guarded("_ENTRY_matches", plain_code, params,
                                     bail=f"return {general}")
        if plain.reads_age and not self._uses_time:
            # `age` may be derived from birthDate, which needs the caller's `now`.
            source = source.replace(
                "    try:\n",
                "    if now is not None or time_zone is not None: return _clockmatch(_v, now, "
                "time_zone)\n    try:\n",
                1,
            )
        self._sources = [source]
        self._ns = namespace = plain.ns
        namespace["_clockmatch"] = self._clock_matches
        namespace["_rescue"] = self._rescue
        self._safe_fn: Callable[..., Any] | None = None
        namespace["_ENTRY_general"] = self._general_on_first_use
        # CPython's `compile()` of the source is most of a cold compile: it is shared by
        # queries of one shape (the code-object cache), and for a new shape deferred to the
        # first call, so that compiling many audiences, or one that is only checked, never
        # pays it.
        code = compile_source.cached(source)
        if code is not None:
            self._install(code)
        elif not self._uses_time:
            self.matches = self._first_match  # type: ignore[method-assign]
        else:
            self.__dict__.pop("matches", None)  # the clock-resolving method

    def _install(self, code: Any) -> Callable[..., bool]:
        exec(code, self._ns)
        fn: Callable[..., bool] = self._ns["_ENTRY_matches"]
        self._match_fn = fn
        if not self._uses_time:
            # The hot path: `query.matches(v)` is the generated function itself.
            self.matches = fn  # type: ignore[method-assign]
        return fn

    def _matches_function(self) -> Callable[..., bool]:
        """The generated `matches`, compiled on first use."""
        fn = self._match_fn
        if fn is None:
            with self._lock:
                self._generate()
                fn = self._match_fn
                if fn is None:
                    fn = self._install(compile_source(self._sources[0]))
        return fn

    def _first_match(
        self, variables: Mapping[str, Any], now: Any = None, time_zone: Any = None
    ) -> bool:
        """`matches` until the generated function is compiled (by this first call)."""
        fn = self._matches_function()
        if self._uses_time:
            return Query.matches(self, variables, now=now, time_zone=time_zone or "UTC")
        return fn(variables, now, time_zone)

    @property
    def source(self) -> str:
        """The generated Python source (no query text or value appears in it)."""
        self._generate()
        self._complete()
        return "".join(self._sources)

    def _complete(self) -> None:
        """Generate and compile the remaining entry points (once, thread-safe)."""
        if self._evaluate_fn is not None:
            return
        with self._lock:
            self._generate()
            if self._evaluate_fn is not None:
                return
            ast = self.ast
            gen = self._last_generator.sibling()
            gen.prepare([ast])
            value_code, true_code = gen.generate_bodies(
                lambda: [gen.value(ast), gen.true(ast)]
            )
            tracer = gen.sibling(trace=True)
            trace_code = tracer.value(ast)
            source = gen.build_function("_ENTRY_evaluate", value_code)
            source += gen.build_guarded("_ENTRY_general", true_code, _MATCH_PARAMS)
            source += tracer.build_function("_ENTRY_trace", trace_code, "_v, _now, _tz, _rec")
            exec(compile_source(source), self._ns)
            self._sources.append(source)
            self._trace_nodes = tracer.trace_nodes
            self._trace_fn = self._ns["_ENTRY_trace"]
            self._evaluate_fn = self._ns["_ENTRY_evaluate"]

    def _rescue(self, exc: Exception, variables: Any, now: Any, tz: Any) -> bool:
        """A truth-mode entry raised `exc`: False if the budget ran out, else the value of
        the guarded evaluation (see `compiler/contracts.py`) is exactly True."""
        if isinstance(exc, BudgetExceeded):
            return False
        try:
            return self._guarded(variables, now, tz) is True
        except Exception:
            return False

    def _guarded(self, variables: Any, now: Any, tz: Any) -> Any:
        """The value from the guarded namespace, where helpers return errors instead of
        raising; `BudgetExceeded` still propagates."""
        fn = self._safe_fn
        if fn is None:
            self._complete()
            namespace = guarded_namespace(self._ns)
            exec(compile_source(self._sources[1]), namespace)
            fn = self._safe_fn = namespace["_ENTRY_evaluate"]
        try:
            return fn(variables, now, tz)
        except BudgetExceeded:
            raise
        except Exception as exc:  # outside any helper: the generated code itself
            return failure(exc, "the query", self.ast.span)

    def _general_on_first_use(self, *args: Any) -> bool:
        self._complete()
        return self._ns["_ENTRY_general"](*args)  # type: ignore[no-any-return]

    @property
    def _evaluate(self) -> Callable[..., Any]:
        if self._evaluate_fn is None:
            self._complete()
        return self._evaluate_fn  # type: ignore[return-value]

    @property
    def _trace(self) -> Callable[..., Any]:
        if self._trace_fn is None:
            self._complete()
        return self._trace_fn  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Query({self.text!r})"

    # ------------------------------------------------------------------------------------

    def _run(self, fn: Callable[..., Any], variables: Any, now: Any, time_zone: Any,
             *extra: Any) -> Any:
        if not self.uses_time and now is None and time_zone in (None, "UTC"):
            return fn(variables, None, None, *extra)
        instant, tz = resolve_clock(now, time_zone)
        return with_clock(instant, tz, fn, variables, instant, tz, *extra)

    def evaluate(
        self,
        variables: Mapping[str, Any],
        *,
        now: dt.datetime | str | None = None,
        time_zone: str | dt.tzinfo = "UTC",
        budget: Budget | None = None,
    ) -> Any:
        """The query's value; raises `EvaluationError` (code, span, message) for an error,
        including a budget that ran out (Q312-Q314). `budget` overrides the query's own."""
        token = CURRENT_BUDGET.set(budget) if budget is not None else None
        try:
            result = self._value_of(self._evaluate, variables, now, time_zone)
        finally:
            if token is not None:
                CURRENT_BUDGET.reset(token)
        if result.__class__ is not ErrorValue:
            result = export(result)
        if result.__class__ is ErrorValue:
            raise result.to_exception()
        return result

    def _value_of(self, fn: Callable[..., Any], variables: Any, now: Any, time_zone: Any,
                  *extra: Any) -> Any:
        """`fn`'s value; an exception becomes the guarded evaluation's value, and a budget
        that ran out its error value."""
        try:
            return self._run(fn, variables, now, time_zone, *extra)
        except EvaluationError:
            raise
        except BudgetExceeded as exc:
            return exc.error
        except Exception:
            pass
        try:
            return self._run(self._guarded_entry, variables, now, time_zone)
        except BudgetExceeded as exc:
            return exc.error

    def _guarded_entry(self, variables: Any, now: Any, tz: Any) -> Any:
        return self._guarded(variables, now, tz)

    def matches(
        self,
        variables: Mapping[str, Any],
        *,
        now: dt.datetime | str | None = None,
        time_zone: str | dt.tzinfo = "UTC",
    ) -> bool:
        """True only when the query's value is exactly `true`; never raises on data."""
        try:
            instant, tz = resolve_clock(now, time_zone)
        except EvaluationError:
            raise
        matched: bool = with_clock(instant, tz, self._match_with_clock, variables, instant, tz)
        return matched

    def _clock_matches(self, variables: Any, now: Any, time_zone: Any) -> bool:
        return Query.matches(self, variables, now=now, time_zone=time_zone or "UTC")

    def _match_with_clock(self, variables: Any, instant: dt.datetime, tz: dt.tzinfo) -> bool:
        fn = self._matches_function()
        if not self.uses_time:  # the clock only reaches virtual attributes (contextvars)
            return fn(variables)
        return fn(variables, _now=instant, _tz=tz)

    def explain(
        self,
        variables: Mapping[str, Any],
        *,
        now: dt.datetime | str | None = None,
        time_zone: str | dt.tzinfo = "UTC",
        budget: Budget | None = None,
    ) -> Explanation:
        """Every clause's value and span, and the attribute values it read."""
        from segmentql.compiler.explain import build_explanation

        rec = _Recorder()
        token = CURRENT_BUDGET.set(budget) if budget is not None else None
        try:
            result = self._value_of(self._trace, variables, now, time_zone, rec)
        finally:
            if token is not None:
                CURRENT_BUDGET.reset(token)
        if result.__class__ is not ErrorValue:
            result = export(result)
        return build_explanation(self, result, rec.records, self._trace_nodes, rec.reports)


class _Recorder:
    """`_rec` of the tracing rendering: every node's values, and event expressions' reports."""

    __slots__ = ("records", "reports")

    def __init__(self) -> None:
        self.records: dict[int, list[Any]] = {}
        self.reports: dict[int, EventReport] = {}

    def __call__(self, node_id: int, value: Any) -> Any:
        self.records.setdefault(node_id, []).append(value)
        return value

    def events(self, node_id: int) -> EventReport:
        """A fresh report for one run of the event expression `node_id` (the last run wins)."""
        report = self.reports[node_id] = EventReport("")
        return report


# ------------------------------------------------------------------------------------------
# compile_query and its cache
# ------------------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple[Any, ...], Query] = OrderedDict()
_CACHE_SIZE = 1024
_CACHE_LOCK = threading.Lock()


def _parse(text: str) -> A.Node:
    from segmentql.syntax.parser import parse

    return parse(text)


def analyze_query(
    text: str, schema: Any, expect: type | None, budget: Budget = DEFAULT_BUDGET
) -> tuple[A.Node, list[Diagnostic]]:
    """Parse and check; raises `QueryError` when there is an error diagnostic."""
    try:
        from segmentql.checker import analyze
    except ImportError:  # the checker is optional at this layer: parse only
        return _parse(text), []
    if schema is None:
        from segmentql.schema import Schema

        schema = Schema.default()
    analysis = analyze(text, schema, expect=expect, budget=budget)
    diagnostics = sort_diagnostics(analysis.diagnostics)
    if has_errors(diagnostics) or analysis.ast is None:
        raise QueryError(diagnostics, text)
    return analysis.ast, diagnostics


def compile_query(
    text: str, schema: Any = None, *, expect: type | None = None,
    budget: Budget = DEFAULT_BUDGET, generate: bool = True,
) -> Query:
    """Compile `text` (cached by text, schema fingerprint and `expect`).

    Raises `QueryError` with every diagnostic when the query does not parse or check.
    `generate=False` (audience sets, which generate their own code) leaves the query's own
    code to be generated when it is first used alone.
    """
    if not isinstance(text, str):
        raise TypeError("compile_query needs the query text as a string")
    fingerprint = getattr(schema, "fingerprint", None) if schema is not None else None
    if not isinstance(budget, Budget):
        raise TypeError("budget must be a segmentql.Budget")
    key = (text, fingerprint if fingerprint is not None else id(schema), expect, budget)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    ast, diagnostics = analyze_query(text, schema, expect, budget)
    query = compile_ast(ast, text, schema=schema, diagnostics=diagnostics, budget=budget,
                        generate=generate)
    with _CACHE_LOCK:
        _CACHE[key] = query
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return query


def compile_ast(
    ast: A.Node,
    text: str = "",
    *,
    schema: Any = None,
    diagnostics: list[Diagnostic] | None = None,
    budget: Budget = DEFAULT_BUDGET,
    generate: bool = True,
) -> Query:
    """Compile an already checked AST (no cache)."""
    functions = getattr(schema, "functions", None) if schema is not None else None
    try:
        return Query(text, ast, list(diagnostics or []), functions=functions, budget=budget,
                     generate=generate)
    except CodegenError as exc:
        diagnostic = Diagnostic(exc.code, Severity.ERROR, exc.message, exc.span)
        raise QueryError([diagnostic, *(diagnostics or [])], text) from None
    except RecursionError:
        diagnostic = Diagnostic("Q151", Severity.ERROR, "query nested too deeply",
                                getattr(ast, "span", Span(0, 0)))
        raise QueryError([diagnostic], text) from None


def clear_cache() -> None:
    """Forget every compiled query and every cached code object."""
    with _CACHE_LOCK:
        _CACHE.clear()
    compile_source.cache_clear()
