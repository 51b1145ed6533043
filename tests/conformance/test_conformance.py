"""Run the conformance corpus (`cases/*.yaml`) against the Python evaluator.

One test per case, id `<file>::<name>`. Each case is compiled with
`segmentql.compiler.compile_query` and evaluated with its `variables`, `now` and `time_zone`;
the result must conform to `expected` (typed tags decoded), or the stated error must be raised
in the stated phase. `Query.explain` must give the same value, and so must the variables
`prepare`d and as a `Prepared` (the class of store snapshots); `Query.matches` is checked too: True exactly when
the result is `true`, and never raising on data.
"""

from __future__ import annotations

import pytest

compiler = pytest.importorskip(
    "segmentql.compiler",
    reason="segmentql.compiler (the evaluator, issue #4) is not in the tree yet",
)
pytest.importorskip(
    "segmentql.syntax.parser",
    reason="segmentql.syntax.parser (the parser the compiler needs) is not in the tree yet",
)

from conformance_corpus import Case, decode, load_all, mismatch, parse_datetime  # noqa: E402

from segmentql.errors import EvaluationError, QueryError  # noqa: E402
from segmentql.runtime.prepared import Prepared, prepare  # noqa: E402

CASES = load_all()


def _compile(case: Case) -> object:
    expect = bool if case.data.get("expect") == "boolean" else None
    return compiler.compile_query(case.data["query"], None, expect=expect)


def _run_kwargs(case: Case) -> dict[str, object]:
    now = case.data.get("now")
    return {
        "now": parse_datetime(str(now)) if now is not None else None,
        "time_zone": case.data.get("time_zone", "UTC"),
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    data = case.data
    variables = data.get("variables") or {}
    error = data.get("error")
    if error is not None and error["phase"] == "compile":
        with pytest.raises(QueryError) as raised:
            _compile(case)
        if error.get("code"):
            codes = [d.code for d in raised.value.diagnostics if d.is_error]
            assert error["code"] in codes, f"expected {error['code']}, got {codes}"
        return

    try:
        query = _compile(case)
    except QueryError as exc:
        pytest.fail(f"unexpected compile error: {exc}")
    kwargs = _run_kwargs(case)
    if error is not None:
        with pytest.raises(EvaluationError) as raised_eval:
            query.evaluate(variables, **kwargs)  # type: ignore[attr-defined]
        if error.get("code"):
            assert raised_eval.value.code == error["code"], raised_eval.value
        assert query.matches(variables, **kwargs) is False  # type: ignore[attr-defined]
        return

    result = query.evaluate(variables, **kwargs)  # type: ignore[attr-defined]
    expected = decode(data["expected"])
    why = mismatch(expected, result)
    assert why is None, why
    explained = query.explain(variables, **kwargs).value  # type: ignore[attr-defined]
    why = mismatch(expected, explained)
    assert why is None, f"explain: {why}"
    for prepared in (prepare(variables), Prepared(variables)):
        why = mismatch(expected, query.evaluate(prepared, **kwargs))  # type: ignore[attr-defined]
        assert why is None, f"{type(prepared).__name__}: {why}"
        assert query.matches(prepared, **kwargs) is (expected is True)  # type: ignore[attr-defined]
    assert query.matches(variables, **kwargs) is (expected is True)  # type: ignore[attr-defined]
