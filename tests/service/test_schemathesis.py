"""schemathesis against the OpenAPI document, in process over ASGI.

Requests carry a key through the security schemes: the auth provider below sends the server
key to server-only operations and the client key elsewhere, signing every `user_id` in a body
with its user hash (as a browser SDK would), so both key paths are exercised. 100 examples per
operation; 1,000 under `--deep`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from schemathesis.config import SchemathesisConfig

from segmentql.service import Settings, create_app

from .support import CLIENT_KEY, EXAMPLES, KEYS_ENV, SERVER_KEY, signed

pytestmark = pytest.mark.service

CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
APP = create_app(
    Settings(audiences=str(EXAMPLES / "audiences.yaml"), schema=str(EXAMPLES / "schema.yaml"),
             rate_limit=0),
    environ=KEYS_ENV,
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)
#: `--deep` loads the hypothesis profile with thousands of examples before this module loads.
EXAMPLES_PER_OPERATION = 1000 if settings.default.max_examples >= 1000 else 100
SERVER_ONLY = {("GET", "/v1/profiles/{user_id}"), ("DELETE", "/v1/users/{user_id}"),
               ("POST", "/v1/evaluate")}


def _sign(body: Any) -> None:
    if not isinstance(body, dict):
        return
    if isinstance(body.get("user_id"), str):
        body["user_hash"] = signed(body["user_id"])
    for event in body.get("events", []) if isinstance(body.get("events"), list) else []:
        if isinstance(event, dict) and isinstance(event.get("user_id"), str):
            event["user_hash"] = signed(event["user_id"])


@SCHEMA.auth()
class KeyAuth:
    def get(self, case: Any, context: Any) -> str:
        return "keys"

    def set(self, case: Any, data: str, context: Any) -> None:
        operation = (case.operation.method.upper(), case.operation.path)
        key = SERVER_KEY if operation in SERVER_ONLY else CLIENT_KEY
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
        if key == CLIENT_KEY:
            _sign(case.body)


def test_the_document_declares_security_and_problems() -> None:
    document = SCHEMA.raw_schema
    assert document["openapi"].startswith("3.1")
    assert set(document["components"]["securitySchemes"]) == {"apiKey", "serverKey"}
    decide = document["paths"]["/v1/decide"]["post"]
    assert {"400", "401", "403", "404", "413", "422", "429"} <= set(decide["responses"])
    assert "application/problem+json" in decide["responses"]["401"]["content"]


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None)
def test_api(case: Any) -> None:
    case.call_and_validate()
