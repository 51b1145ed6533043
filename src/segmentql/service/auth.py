"""Keys as FastAPI dependencies: who is calling, and may they do this?

- no `Authorization: Bearer KEY` → 401 `missing-key`; an unknown key → 401 `unknown-key`;
- a client key on a server-only action → 403 `server-key-required`;
- a client key naming a user id without a valid `user_hash` → 401 `invalid-user-hash`.

The rate limit is taken here too, once the key is known (429 `rate-limited`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from segmentql.service.keys import Key
from segmentql.service.problems import Problem

if TYPE_CHECKING:
    from segmentql.service.app import Service

any_key = HTTPBearer(
    scheme_name="apiKey",
    description="A server (secret) or client (publishable) key: `Authorization: Bearer KEY`.",
    auto_error=False,
)
server_key = HTTPBearer(
    scheme_name="serverKey",
    description="A server (secret) key: `Authorization: Bearer KEY`.",
    auto_error=False,
)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="segmentql"'}


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Key:
    service = service_of(request)
    if credentials is None or not credentials.credentials:
        raise Problem(
            "missing-key", "send a key as 'Authorization: Bearer KEY'", headers=_CHALLENGE
        )
    key = service.keys.ring.identify(credentials.credentials)
    if key is None:
        raise Problem("unknown-key", "the key is not valid (revoked or mistyped)",
                      headers=_CHALLENGE)
    service.limiter.check(key.ident)
    return key


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(any_key)],
) -> Key:
    """Any valid key (async: quick CPU work, so no threadpool hop)."""
    return _authenticate(request, credentials)


async def server_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(server_key)],
) -> Key:
    """A valid server key; a client key gets 403."""
    key = _authenticate(request, credentials)
    if key.role != "server":
        raise Problem("server-key-required", "this action needs a server (secret) key")
    return key


#: A parameter type: any valid key.
AnyKey = Annotated[Key, Depends(caller)]
#: A parameter type: a valid server key (403 for a client key).
ServerKey = Annotated[Key, Depends(server_caller)]


def require_server(key: Key, what: str) -> None:
    if key.role != "server":
        raise Problem("server-key-required", f"{what} needs a server (secret) key")


def require_user_hash(service: Service, key: Key, user_id: str, user_hash: str | None,
                      where: str) -> None:
    """A client key may name a user id only with that id's valid user hash."""
    if key.role == "server":
        return
    if user_hash is None:
        raise Problem(
            "invalid-user-hash",
            f"{where}: a client key needs 'user_hash' (HMAC-SHA256 of the user id) beside "
            "'user_id'",
            field=f"{where}.user_hash", headers=_CHALLENGE,
        )
    if not service.keys.ring.verify_user_hash(user_id, user_hash):
        raise Problem(
            "invalid-user-hash", f"{where}: 'user_hash' does not sign this user id",
            field=f"{where}.user_hash", headers=_CHALLENGE,
        )
