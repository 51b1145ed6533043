"""What one service process needs to know, from CLI flags (or `Settings(...)` in code).
Workers receive it through `SEGMENTQL_SERVE_SETTINGS` (JSON, never any key)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

ENV_SETTINGS = "SEGMENTQL_SERVE_SETTINGS"


@dataclass(frozen=True, slots=True)
class Settings:
    """The service's configuration (keys come from the environment and `keys_file`)."""

    #: `memory`, a SQLite path, or a `postgresql://` URL.
    store: str = "memory"
    #: One audiences file or several (names unique across them).
    audiences: str | list[str] | None = None
    schema: str | None = None
    keys_file: str | None = None
    time_zone: str = "UTC"
    #: Largest request body accepted, in bytes (413 above).
    max_body_bytes: int = 1_048_576
    #: Most events in one `POST /v1/events` batch (413 above).
    max_batch: int = 1000
    #: Requests per second allowed per key and worker (0 turns the limit off), and the burst.
    rate_limit: float = 1000.0
    rate_burst: int = 2000
    #: How often (seconds) the audiences file and the keys file are checked for changes.
    reload_interval: float = 1.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_env(cls) -> Settings:
        raw = os.environ.get(ENV_SETTINGS)
        return cls() if not raw else cls.from_mapping(json.loads(raw))
