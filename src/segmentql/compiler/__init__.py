"""The compiler: queries to generated Python functions, and sets of audiences.

    from segmentql.compiler import compile_query
    q = compile_query('user\\'s plan is "pro"')
    q.matches({"user": {"plan": "pro"}})   # True
"""

from __future__ import annotations

from segmentql.compiler.audiences import AudienceSet, compile_audiences
from segmentql.compiler.explain import Clause, Explanation, Read
from segmentql.compiler.query import Query, clear_cache, compile_ast, compile_query

__all__ = [
    "AudienceSet",
    "Clause",
    "Explanation",
    "Query",
    "Read",
    "clear_cache",
    "compile_ast",
    "compile_audiences",
    "compile_query",
]
