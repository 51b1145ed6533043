"""The corpus itself is well-formed: runs without any evaluator in the tree."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from conformance_corpus import CASES_DIR, decode, load_all, mismatch, validate

import segmentql.codes

MINIMUM_CASES = 500


def test_every_case_is_well_formed() -> None:
    problems = [f"{case.id}: {why}" for case in load_all() for why in validate(case)]
    assert not problems, "\n".join(problems)


def test_names_are_unique_per_file() -> None:
    counts = Counter(case.id for case in load_all())
    assert [name for name, n in counts.items() if n > 1] == []


def test_error_codes_exist() -> None:
    unknown = [
        (case.id, case.data["error"]["code"]) for case in load_all()
        if case.data.get("error", {}).get("code")
        and case.data["error"]["code"] not in segmentql.codes.CODES
    ]
    assert unknown == []


def test_corpus_size() -> None:
    assert len(load_all()) >= MINIMUM_CASES
    assert len(list(CASES_DIR.glob("*.yaml"))) >= 10


# --- the comparison rules other backends reuse (README "Typed expected values") ----------

_UTC = dt.UTC


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (True, True),
        (None, None),
        (3, 3),
        ("x", "x"),
        ({"$decimal": "0.3"}, Decimal("0.30")),
        ({"$float": 0.5}, 0.5),
        ({"$number": "2"}, Decimal("2.0")),
        ({"$number": "0.3"}, 0.3),
        ({"$date": "2024-01-01"}, dt.date(2024, 1, 1)),
        ({"$time": "12:00:00"}, dt.time(12, 0)),
        ({"$datetime": "2024-01-01T12:00:00+02:00"}, dt.datetime(2024, 1, 1, 10, tzinfo=_UTC)),
        ([1, {"$decimal": "1.5"}], (1, Decimal("1.5"))),
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}),
    ],
)
def test_conforming_values(expected: object, actual: object) -> None:
    assert mismatch(decode(expected), actual) is None


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (True, 1),
        (1, True),
        (1, 1.0),
        (1, Decimal(1)),
        (None, ""),
        ({"$decimal": "0.3"}, 0.3),
        ({"$float": 0.5}, Decimal("0.5")),
        ({"$number": "1"}, True),
        ({"$number": "0.3"}, 0.30000000000000004),
        ({"$date": "2024-01-01"}, dt.datetime(2024, 1, 1, tzinfo=_UTC)),
        ({"$datetime": "2024-01-01T00:00:00+00:00"}, dt.datetime(2024, 1, 1)),
        ({"$datetime": "2024-01-01T00:00:00+00:00"}, dt.datetime(2024, 1, 1, 1, tzinfo=_UTC)),
        ([1, 2], [1]),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ],
)
def test_non_conforming_values(expected: object, actual: object) -> None:
    assert mismatch(decode(expected), actual) is not None


def test_untagged_float_is_rejected() -> None:
    with pytest.raises(ValueError, match="untagged float"):
        decode(0.5)
