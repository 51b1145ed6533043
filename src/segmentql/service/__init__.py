"""The segmentql service (`segmentql serve`, the `serve` extra): events in, decisions out.

    from segmentql.service import Settings, create_app
    app = create_app(Settings(store="profiles.sqlite", audiences="audiences.yaml"))

See `docs/service.md` for the endpoints, the keys and the user hash, and deployment.
"""

from __future__ import annotations

from segmentql.service.app import ServiceError, app_from_env, create_app
from segmentql.service.keys import user_hash
from segmentql.service.settings import Settings

__all__ = ["ServiceError", "Settings", "app_from_env", "create_app", "user_hash"]
