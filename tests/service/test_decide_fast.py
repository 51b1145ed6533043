"""`POST /v1/decide` answers all audiences from the compiled set in one call and evaluates
again, one by one, only those answering False (for their errors): the response is the same as
deciding each audience alone, run-time errors included."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentql.service import Settings, create_app

from .support import KEYS_ENV, SERVER_KEY, Client, bearer

pytestmark = pytest.mark.service

AUDIENCES = """\
pro: user's plan is "pro"
ratio: user's score / user's visits > 1
free: user's plan is "free"
named: user's name starts with "A"
"""


@pytest.mark.parametrize("user", [
    {"plan": "pro", "score": 3, "visits": 0, "name": "Ada"},
    {"plan": "free", "score": 3, "visits": 2, "name": "Bo"},
    {"plan": "free", "score": 1, "visits": 2},
    {"score": "high", "visits": 1, "name": 7},
    {},
])
def test_deciding_together_answers_as_each_alone(tmp_path: Path, user: dict[str, object]
                                                 ) -> None:
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text(AUDIENCES)
    app = create_app(Settings(audiences=str(audiences)), environ=KEYS_ENV)
    assert app.state.service.audiences.catalog.together is not None
    client = Client(app)
    together = client.post("/v1/decide", json={"variables": {"user": user}},
                           headers=bearer(SERVER_KEY)).json()
    assert set(together["audiences"]) == {"pro", "ratio", "free", "named"}
    alone: dict[str, object] = {"audiences": {}, "errors": {}}
    for name in together["audiences"]:  # one audience of four: decided one by one
        one = client.post("/v1/decide", json={"variables": {"user": user}, "audiences": [name]},
                          headers=bearer(SERVER_KEY)).json()
        alone["audiences"].update(one["audiences"])  # type: ignore[attr-defined]
        alone["errors"].update(one["errors"])  # type: ignore[attr-defined]
    assert together["audiences"] == alone["audiences"]
    assert together["errors"] == alone["errors"]
    assert together["matched"] == [n for n, hit in together["audiences"].items() if hit]
    if user.get("visits") == 0:
        assert together["errors"]["ratio"]["code"] == "Q302"
