"""The corpus itself is well-formed: runs without any evaluator in the tree."""

from __future__ import annotations

from collections import Counter

from conformance_corpus import CASES_DIR, load_all, validate

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
