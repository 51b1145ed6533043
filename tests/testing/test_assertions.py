"""`assert_audience` and `evaluate`, called directly."""

from __future__ import annotations

import pytest

from segmentql.schema import Schema
from segmentql.testing import assert_audience
from segmentql.testing.run import evaluate

NOW = "2024-05-01T12:00:00Z"
PLANS = Schema.default().extend({"custom": {"user": {"plan": {"enum": ["free", "pro"]}}}})


def test_match_value_and_error_expectations_pass() -> None:
    assert_audience('user\'s plan is "pro"', {"user": {"plan": "pro"}}, True, schema=PLANS)
    assert_audience('user\'s plan is "pro"', {"user": {}}, False, schema=PLANS)
    assert_audience("user's age", {"user": {"birthDate": "2000-05-02"}}, 23, now=NOW)
    assert_audience("1 / user's stats's orders", {"user": {"stats": {"orders": 0}}}, None,
                    error="Q302")
    assert_audience('user\'s plan is "pro"', None, True, schema=PLANS, events=[
        {"type": "identify", "anonymous_id": "a1", "user_id": "u1", "traits": {"plan": "pro"}},
    ])


def test_failure_explains_the_deciding_clause() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_audience(
            'user\'s plan is "pro" and user\'s firstName is "Ann"',
            {"user": {"plan": "pro", "firstName": "Bo"}}, True, schema=PLANS,
        )
    message = str(failure.value)
    assert message.startswith("expected a match, got no match (value False)")
    assert 'decided by: user\'s firstName is "Ann" (line 1, column 26)' in message
    assert 'reads user\'s firstName = "Bo"' in message


def test_failure_on_values_errors_and_compilation() -> None:
    with pytest.raises(AssertionError, match=r"expected value 30, got 23"):
        assert_audience("user's age", {"user": {"birthDate": "2000-05-02"}}, 30, now=NOW)
    with pytest.raises(AssertionError, match=r"expected error Q303, got error Q302"):
        assert_audience("1 / 0", {}, None, error="Q303")
    with pytest.raises(AssertionError, match=r"expected a match, got error Q302"):
        assert_audience("1 / 0 > 1", {}, True)
    with pytest.raises(AssertionError, match=r"(?s)does not compile.*Q114"):
        assert_audience("user's plan is", {}, True)


def test_audience_result_compares_to_its_value() -> None:
    result = evaluate('user\'s plan is "pro"', {"user": {"plan": "pro"}}, schema=PLANS)
    assert result == True  # noqa: E712 - the comparison under test
    assert result != 1
    assert result.matched and bool(result)
    assert "user's plan is \"pro\"  =>  true" in result.explain()
    nothing = evaluate("user's plan", {}, schema=PLANS)
    assert nothing == None  # noqa: E711
    assert not nothing
