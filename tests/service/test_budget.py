"""A decision whose audience exceeds the evaluation cost budget (issue #12) answers with the
`evaluation-budget-exceeded` problem naming the audience and the code — quickly, never a hang
and never a silent no-match."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from segmentql.service import Settings, create_app

from .support import KEYS_ENV, SERVER_KEY, Client, bearer

pytestmark = pytest.mark.service

QUADRATIC = "some a in user's tags satisfies (some b in user's tags satisfies a == b and a != b)"


def test_a_budget_overrun_is_a_clear_problem(tmp_path: Path) -> None:
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text(f'cheap: user\'s plan is "pro"\nquadratic: {QUADRATIC}\n')
    client = Client(create_app(Settings(audiences=str(audiences)), environ=KEYS_ENV))
    small = {"variables": {"user": {"plan": "pro", "tags": ["x", "y", "z"]}}}
    decided = client.post("/v1/decide", json=small, headers=bearer(SERVER_KEY)).json()
    assert decided["matched"] == ["cheap"] and decided["errors"] == {}

    big = {"variables": {"user": {"plan": "pro", "tags": [f"t{n}" for n in range(2000)]}}}
    started = time.monotonic()
    response = client.post("/v1/decide", json=big, headers=bearer(SERVER_KEY))
    assert time.monotonic() - started < 10
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "evaluation-budget-exceeded"
    assert body["audience"] == "quadratic" and body["diagnostic_code"] == "Q312"
    assert "quadratic" in body["detail"]
    # the other audiences alone still decide
    only_cheap = {**big, "audiences": ["cheap"]}
    assert client.post("/v1/decide", json=only_cheap, headers=bearer(SERVER_KEY)).json()[
        "matched"] == ["cheap"]
