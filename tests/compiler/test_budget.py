"""The evaluation budget and the check-time cost estimate (issue #12, "unbounded cost").

Every example named in the issue is here: each ran for seconds to minutes (or grew to
gigabytes) before the budget existed, and each now stops with its documented code, with
`matches` False and `evaluate` raising `EvaluationError`.
"""

from __future__ import annotations

import datetime as dt

import pytest

import segmentql
from segmentql import Budget, EvaluationError
from segmentql.compiler.query import clear_cache
from segmentql.runtime.budget import Meter

SELF_APPLIED = "let f = (g, n) => 1 if n <= 1 else g(g, n - 1) + g(g, n - 2); f(f, 30) > 0"
FIVE_QUANTIFIERS = (
    "some a in 1..30 satisfies some b in 1..30 satisfies some c in 1..30 satisfies "
    "some d in 1..30 satisfies some e in 1..30 satisfies a + b + c + d + e < 0"
)
DOUBLING = (
    'let a = "abcd"; let b = a & a & a & a; let c = b & b & b & b; let d = c & c & c & c; '
    "let e = d & d & d & d; let f = e & e & e & e; let g = f & f & f & f; "
    "let h = g & g & g & g; let i = h & h & h & h; let j = i & i & i & i; j is \"x\""
)
NESTED_LISTS = (
    "let a = [1, 1]; let b = [a, a, a, a]; let c = [b, b, b, b]; let d = [c, c, c, c]; "
    "let e = [d, d, d, d]; let f = [e, e, e, e]; let g = [f, f, f, f]; let h = [g, g, g, g]; "
    "let i = [h, h, h, h]; let j = [i, i, i, i]; let k = [j, j, j, j]; count of k > 0"
)
DEEP_CALLS = "let f = (g, n) => 0 if n is 0 else g(g, n - 1); f(f, 40) is 0"


def _error(text: str, variables: dict[str, object] | None = None, **kw: object) -> str:
    query = segmentql.compile(text, **kw)  # type: ignore[arg-type]
    assert query.matches(variables or {}) is False
    with pytest.raises(EvaluationError) as info:
        query.evaluate(variables or {})
    return info.value.code


@pytest.mark.parametrize(("text", "code"), [
    (SELF_APPLIED, "Q312"),
    (FIVE_QUANTIFIERS, "Q312"),
    (DOUBLING, "Q313"),
    (NESTED_LISTS, "Q313"),
    (DEEP_CALLS, "Q314"),
])
def test_the_issue_examples_stop_with_their_code(text: str, code: str) -> None:
    assert len(text) <= 500
    assert _error(text) == code


def test_an_or_does_not_absorb_a_budget_stop() -> None:
    # `E or true` would be true if E were an ordinary error value; a stopped evaluation
    # is not a value.
    text = f"({FIVE_QUANTIFIERS}) or true"
    assert _error(text) == "Q312"


def test_budget_per_compile_and_per_evaluation() -> None:
    text = "some a in 1..30 satisfies some b in 1..30 satisfies a + b < 0"
    assert segmentql.compile(text).evaluate({}) is False  # 961 steps: within the default
    small = Budget(steps=100)
    assert _error(text, budget=small) == "Q312"
    query = segmentql.compile(text)
    with pytest.raises(EvaluationError) as info:
        query.evaluate({}, budget=small)
    assert info.value.code == "Q312"
    assert query.evaluate({}) is False  # the override was for that evaluation only
    assert segmentql.compile(text, budget=Budget(steps=10_000)) is query  # equal budgets


def test_data_driven_loops_are_metered() -> None:
    text = "some a in user's tags satisfies some b in user's tags satisfies a is equal to b - 1000000"
    tags = list(range(1000))
    query = segmentql.compile(text)
    assert query.matches({"user": {"tags": tags[:100]}}) is False
    with pytest.raises(EvaluationError) as info:
        query.evaluate({"user": {"tags": tags}})
    assert info.value.code == "Q312"


def test_dedupe_of_a_thousand_maps_is_linear_and_metered() -> None:
    maps = [{"a": i, "b": [i, str(i)]} for i in range(1000)] * 2
    query = segmentql.compile("count of (user's xs without duplicates) is 1000")
    assert query.evaluate({"user": {"xs": maps}}) is True
    with pytest.raises(EvaluationError) as info:
        query.evaluate({"user": {"xs": maps}}, budget=Budget(steps=500))
    assert info.value.code == "Q312"


def test_sorting_is_metered() -> None:
    query = segmentql.compile("first of (user's xs sorted) is 0")
    xs = list(range(500, -1, -1))
    assert query.evaluate({"user": {"xs": xs}}) is True
    with pytest.raises(EvaluationError) as info:
        query.evaluate({"user": {"xs": xs}}, budget=Budget(steps=1000))
    assert info.value.code == "Q312"


def test_a_rule_without_loops_creates_no_meter() -> None:
    query = segmentql.compile('user\'s plan is "pro" and user\'s age > 30')
    assert "_meter" not in query.source
    looped = segmentql.compile("some t in user's tags satisfies t is \"a\"")
    assert "_b = _meter()" in looped.source


def test_constant_folding_obeys_the_budget() -> None:
    clear_cache()
    # Folding would build the 1 MB text at compile time; it stops at the budget instead and
    # the evaluation reports it.
    text = "(" + " & ".join(['"' + "x" * 200 + '"'] * 2) + ") is \"x\""
    assert segmentql.compile(text, budget=Budget(size=100)).matches({}) is False
    assert _error(text, budget=Budget(size=100)) == "Q313"
    assert segmentql.compile(text).evaluate({}) is False


def test_budget_values_are_checked() -> None:
    with pytest.raises(ValueError, match="steps"):
        Budget(steps=0)
    with pytest.raises(TypeError):
        segmentql.compile("true", budget="big")  # type: ignore[arg-type]


def test_meter_counts_nesting() -> None:
    meter = Meter(Budget(steps=10, depth=2))
    calls = meter._function(lambda x: x)
    assert calls(1) == 1
    assert meter.depth == 0 and meter.left == 9


# -- calendar arithmetic in constant time ---------------------------------------------------

@pytest.mark.parametrize("text", [
    "today + 9999999 weekdays > today",
    "today - 9999999 weekend days < today",
])
def test_huge_weekday_shifts_are_out_of_range_at_once(text: str) -> None:
    query = segmentql.compile(text)
    with pytest.raises(EvaluationError) as info:
        query.evaluate({}, now="2024-07-31T12:00:00Z")
    assert info.value.code == "Q305"


def test_weekday_arithmetic_agrees_with_counting_day_by_day() -> None:
    start = dt.date(2024, 7, 31)  # a Wednesday
    query = segmentql.compile("today + 1234 weekdays")
    result = query.evaluate({}, now="2024-07-31T12:00:00Z")
    day, left = start, 1234
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    assert result == day
    between = segmentql.compile(
        'number of weekend days between ("2024-01-01" as date) and ("2031-03-05" as date)'
    ).evaluate({})
    count = sum(1 for i in range((dt.date(2031, 3, 5) - dt.date(2024, 1, 1)).days)
                if (dt.date(2024, 1, 1) + dt.timedelta(days=i)).weekday() >= 5)
    assert between == count


# -- the check-time estimate ------------------------------------------------------------------

def _codes(text: str, **kw: object) -> list[str]:
    return [d.code for d in segmentql.check(text, **kw)]  # type: ignore[arg-type]


def test_the_estimate_warns_before_the_budget_stops() -> None:
    assert "Q225" in _codes(FIVE_QUANTIFIERS)
    assert "Q226" in _codes(DOUBLING)
    assert "Q226" in _codes(NESTED_LISTS)
    assert "Q227" in _codes(SELF_APPLIED)
    assert "Q227" in _codes(DEEP_CALLS)
    two = "some a in user's tags satisfies some b in user's tags satisfies a is equal to b"
    assert "Q225" in _codes(two)  # 1,000 x 1,000 items under the default bounds
    assert "Q225" not in _codes(two, budget=Budget(collection_items=90))


def test_the_estimate_is_quiet_on_ordinary_queries() -> None:
    for text in (
        'user\'s plan is "pro" and user\'s age > 30',
        "some t in user's tags satisfies t is \"vip\"",
        "let inc = (n) => n + 1; inc(inc(1)) is 3",
        "let twice = (f, x) => f(f(x)); twice((n) => n + 1, 1) is 3",
        "(user's tags without duplicates) contains \"a\"",
    ):
        assert not {"Q225", "Q226", "Q227"} & set(_codes(text)), text


def test_estimate_warnings_do_not_stop_compilation() -> None:
    query = segmentql.compile(SELF_APPLIED)
    assert [d.code for d in query.diagnostics] == ["Q227"]


def test_audience_sets_run_under_a_budget() -> None:
    three = ("some a in 1..30 satisfies some b in 1..30 satisfies some c in 1..30 satisfies "
             "a + b + c > 80")
    audiences = segmentql.compile_audiences({"slow": three, "pro": 'user\'s plan is "pro"'})
    assert audiences.evaluate({"user": {"plan": "pro"}}) == {"slow": False, "pro": True}
    roomy = segmentql.compile_audiences({"slow": three}, budget=Budget(steps=50_000))
    assert roomy.evaluate({}) == {"slow": True}
