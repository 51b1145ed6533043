"""Event and policy errors in our own words, with "did you mean" (issue #14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segmentql.cli import main
from segmentql.state.errors import InvalidEventError
from segmentql.state.events import parse_event

#: Pydantic's own phrases, which must never reach a user.
PYDANTIC_WORDING = ("Extra inputs", "Input should", "Field required", "Input tag",
                    "does not match any of the expected tags", "validation error")


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "idenitfy", "anonymousId": "a"},
         "unknown event type 'idenitfy'; did you mean 'identify'? (types: identify, anonymize, "
         "patch, track, group, merge, delete_user, unsuppress, page, screen, alias)"),
        ({"type": "track", "anonymousId": "a", "event": "x", "propertys": {}},
         "track event: unknown field 'propertys'; did you mean 'properties'?"),
        ({"type": "track", "anonymousId": "a", "event": 3},
         "track event, event: expected a string, got 3"),
        ({"type": "identify", "anonymousId": "a", "userId": "u", "timestamp": "yesterday"},
         'identify event, timestamp: expected an ISO-8601 date-time, got "yesterday"'),
        ({"type": "identify", "anonymousId": "a"}, "identify event: missing field 'userId'"),
        ({"type": "patch", "anonymousId": "a",
          "operations": [{"op": "sett", "path": "x", "value": 1}]},
         "patch event, operations[0].op: 'sett' is not one of set, set_once, unset, clear, add, "
         "combine, merge, remove, increment, decrement; did you mean 'set'?"),
        ({"type": "patch", "anonymousId": "a",
          "operations": [{"op": "set", "pth": "x", "value": 1}]},
         "patch event, operations[0]: missing field 'path'; patch event, operations[0]: "
         "unknown field 'pth'; did you mean 'path'?"),
    ],
)
def test_event_errors_say_what_and_where(event: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError) as info:
        parse_event(event)
    assert str(info.value) == message
    assert not any(phrase in str(info.value) for phrase in PYDANTIC_WORDING)


def test_policy_errors_in_our_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("sesion_timeout: 60\nmerge_winner: targte\nmax_anonymous_ids: 0\n",
                      encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "track", "anonymousId": "a", "event": "x"}\n', encoding="utf-8")
    status = main(["apply", str(events), "--store", str(tmp_path / "s.db"),
                   "--policy", str(policy)])
    err = capsys.readouterr().err
    assert status == 2
    assert "merge_winner: 'targte' is not one of target, source; did you mean 'target'?" in err
    assert "max_anonymous_ids: must be at least 1, got 0" in err
    assert "unknown field 'sesion_timeout'; did you mean 'session_timeout'?" in err
    assert not any(phrase in err for phrase in PYDANTIC_WORDING)


def test_schema_enum_mismatch_says_did_you_mean() -> None:
    from segmentql.schema import Schema
    from segmentql.state import ProfileStore
    from segmentql.state.errors import PatchError

    schema = Schema.from_dict({"custom": {"user": {"tier": {"type": "string",
                                                            "enum": ["free", "pro"]}}}})
    store = ProfileStore(schema=schema)
    with pytest.raises(PatchError, match=r"would store 'Pro'; did you mean 'pro'\?"):
        store.apply({"type": "patch", "anonymousId": "a",
                     "operations": [{"op": "set", "path": "custom.tier", "value": "Pro"}]})
