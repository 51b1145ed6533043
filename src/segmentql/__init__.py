"""segmentql: audience queries, checked, compiled to Python, evaluated on profile snapshots.

    import segmentql
    query = segmentql.compile('user\\'s plan is "pro"')
    query.matches({"user": {"plan": "pro"}})        # True

The public surface is small and stable (see docs/api.md):

    parse(text) -> AST                 raises QuerySyntaxError (.diagnostics)
    check(text, schema=None) -> list[Diagnostic]          never raises on bad input
    compile(text, schema=None, *, expect=None) -> Query   raises QueryError (.diagnostics)
    format(text) -> str                canonical formatting
    Query.evaluate / .matches / .explain(variables, *, now=None, time_zone="UTC")
    compile_audiences({name: text}, schema=None) -> AudienceSet
    prepare(variables) -> dict         variables read faster by every query (same results)
    Schema.load(path) / Schema.default()
    ProfileStore() / ProfileStore.open(path)

Heavy modules are imported on first use, so `import segmentql` (done by the pytest plugin in
every test run) stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from segmentql.diagnostics import Diagnostic, Severity, Span
from segmentql.errors import (
    EvaluationError,
    QueryError,
    QuerySyntaxError,
    SchemaError,
    SegmentqlError,
)

if TYPE_CHECKING:
    from segmentql.compiler.audiences import AudienceSet
    from segmentql.compiler.explain import Explanation
    from segmentql.compiler.query import Query
    from segmentql.runtime.budget import Budget
    from segmentql.schema import Schema
    from segmentql.state import ProfileStore
    from segmentql.syntax.ast import Expr

__version__ = "0.1.0"

__all__ = [
    "AudienceSet",
    "Budget",
    "Diagnostic",
    "EvaluationError",
    "Explanation",
    "ProfileStore",
    "Query",
    "QueryError",
    "QuerySyntaxError",
    "Schema",
    "SchemaError",
    "SegmentqlError",
    "Severity",
    "Span",
    "__version__",
    "check",
    "compile",
    "compile_audiences",
    "format",
    "parse",
    "prepare",
]

_LAZY = {
    "AudienceSet": "segmentql.compiler.audiences",
    "Budget": "segmentql.runtime.budget",
    "Explanation": "segmentql.compiler.explain",
    "Query": "segmentql.compiler.query",
    "Schema": "segmentql.schema",
    "ProfileStore": "segmentql.state",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'segmentql' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def parse(text: str, *, max_length: int = 500, max_depth: int = 64) -> Expr:
    """The AST of `text`; raises `QuerySyntaxError` carrying every syntax diagnostic."""
    from segmentql.syntax.parser import parse as parse_text

    return parse_text(text, max_length=max_length, max_depth=max_depth)


def check(
    text: str, schema: Schema | None = None, *, expect: type | None = None,
    budget: Budget | None = None,
) -> list[Diagnostic]:
    """Every diagnostic of `text` (syntax, names, types, worst-case cost), sorted; never
    raises on bad input.

    `expect=bool` is the audience use: a query whose result is not boolean is reported.
    `budget` is the budget the cost estimate compares with (default `Budget()`).
    """
    from segmentql.checker import check as check_text

    return check_text(text, schema, expect=expect, budget=budget)


def compile(
    text: str, schema: Schema | None = None, *, expect: type | None = None,
    budget: Budget | None = None,
) -> Query:
    """A compiled query (cached by text, schema, `expect` and `budget`); raises `QueryError`
    with the diagnostics when the query has errors. Every evaluation runs under `budget`
    (default `Budget()`; see docs/semantics.md, "Cost model and budget")."""
    from segmentql.compiler import compile_query
    from segmentql.runtime.budget import DEFAULT_BUDGET

    return compile_query(text, schema, expect=expect, budget=budget or DEFAULT_BUDGET)


def compile_audiences(
    audiences: Mapping[str, str], schema: Schema | None = None, *,
    budget: Budget | None = None,
) -> AudienceSet:
    """Many named audiences compiled together, evaluated against one snapshot in one call
    (each evaluation under `budget`, default `Budget()`)."""
    from segmentql.compiler import compile_audiences as compile_set
    from segmentql.runtime.budget import DEFAULT_BUDGET

    return compile_set(audiences, schema, budget=budget or DEFAULT_BUDGET)


def prepare(variables: Mapping[str, Any]) -> dict[str, Any]:
    """`variables` prepared once for many evaluations: a plain dict of the same variables
    with `custom` attributes resolved and names case-folded up front (see docs/performance.md),
    so every query reads an attribute with one dict lookup and gives the same results as on
    `variables`."""
    from segmentql.runtime.prepared import prepare as prepare_variables

    return prepare_variables(variables)


def format(text: str) -> str:
    """`text` in canonical form; raises `QuerySyntaxError` when it does not parse."""
    from segmentql.syntax.formatter import format_query

    return format_query(text)
