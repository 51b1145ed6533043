"""API keys and the user hash.

Two kinds of key, as the systems our users come from have them: **server** (secret) keys may
do everything; **client** (publishable) keys may only send events and ask decisions for an
anonymous id, or for a user id signed by a valid **user hash** (the hex HMAC-SHA256 of the
user id under the workspace secret).

Keys are kept only as SHA-256 digests and compared in constant time (every stored digest is
compared, whatever matches). They come from the environment (`SEGMENTQL_SERVER_KEYS`,
`SEGMENTQL_CLIENT_KEYS`, comma-separated; `SEGMENTQL_USER_HASH_SECRET`) and from an optional
TOML keys file that is re-read when it changes, so keys rotate without a restart. No key or
secret is ever logged or put in an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Role = Literal["server", "client"]

ENV_SERVER_KEYS = "SEGMENTQL_SERVER_KEYS"
ENV_CLIENT_KEYS = "SEGMENTQL_CLIENT_KEYS"
ENV_USER_HASH_SECRET = "SEGMENTQL_USER_HASH_SECRET"

#: A key given already hashed: `sha256:` followed by 64 hex digits.
HASHED_PREFIX = "sha256:"

log = logging.getLogger("segmentql.service")


class KeysError(ValueError):
    """A keys file that cannot be used (the message never contains key material)."""


def user_hash(secret: str, user_id: str) -> str:
    """The user hash a client sends beside `user_id`: hex HMAC-SHA256 under the secret."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def key_digest(key: str) -> bytes:
    """How a key is stored: its SHA-256 digest (a `sha256:<hex>` entry is already one)."""
    if key.startswith(HASHED_PREFIX):
        hex_part = key[len(HASHED_PREFIX):]
        try:
            raw = bytes.fromhex(hex_part)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise KeysError("a 'sha256:' key entry must be followed by 64 hex digits")
        return raw
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True, slots=True)
class Key:
    """A recognised key: its role and a short id (from the digest) for metrics and limits."""

    role: Role
    digest: bytes

    @property
    def ident(self) -> str:
        return self.digest.hex()[:12]


class KeyRing:
    """Digests of the valid keys and the user-hash secrets (several while rotating)."""

    def __init__(
        self,
        server: Iterable[str] = (),
        client: Iterable[str] = (),
        secrets: Iterable[str] = (),
    ) -> None:
        self._keys: tuple[Key, ...] = tuple(
            [Key("server", key_digest(k)) for k in server if k]
            + [Key("client", key_digest(k)) for k in client if k]
        )
        self._secrets: tuple[bytes, ...] = tuple(s.encode() for s in secrets if s)

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def counts(self) -> dict[str, int]:
        return {
            role: sum(1 for k in self._keys if k.role == role) for role in ("server", "client")
        }

    @property
    def can_verify_user_hash(self) -> bool:
        return bool(self._secrets)

    def identify(self, presented: str) -> Key | None:
        """The key `presented` is, or None; compares against every stored digest."""
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found: Key | None = None
        for key in self._keys:
            if hmac.compare_digest(key.digest, digest):
                found = key
        return found

    def verify_user_hash(self, user_id: str, presented: str | None) -> bool:
        """Whether `presented` is the user hash of `user_id` under one of the secrets."""
        if not presented or not self._secrets:
            return False
        given = presented.strip().lower().encode("utf-8", "surrogatepass")
        ok = False
        for secret in self._secrets:
            expected = hmac.new(
                secret, user_id.encode("utf-8", "surrogatepass"), hashlib.sha256
            ).hexdigest()
            ok |= hmac.compare_digest(expected.encode(), given)
        return ok


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _strings(data: Mapping[str, Any], name: str, where: str) -> list[str]:
    value = data.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KeysError(f"{where}: '{name}' must be a list of strings")
    return value


def read_keys_file(path: Path) -> tuple[list[str], list[str], list[str]]:
    """(server keys, client keys, user-hash secrets) from a TOML keys file."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeysError(f"keys file not found: {where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeysError(f"cannot read keys file {where}: {type(exc).__name__}") from None
    except tomllib.TOMLDecodeError as exc:
        # the decoder's message names a line and column, never the value
        raise KeysError(f"keys file {where} is not valid TOML: {exc}") from None
    unknown = set(data) - {"server_keys", "client_keys", "user_hash_secret", "user_hash_secrets"}
    if unknown:
        raise KeysError(f"{where}: unknown entries {sorted(unknown)}")
    secrets = _strings(data, "user_hash_secrets", where) + _strings(
        data, "user_hash_secret", where
    )
    return _strings(data, "server_keys", where), _strings(data, "client_keys", where), secrets


class KeySource:
    """The current `KeyRing`: environment keys plus the keys file, re-read when it changes."""

    def __init__(self, keys_file: str | None, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._env_server = _split(env.get(ENV_SERVER_KEYS))
        self._env_client = _split(env.get(ENV_CLIENT_KEYS))
        secret = env.get(ENV_USER_HASH_SECRET, "")
        self._env_secrets = [secret] if secret else []
        self.path = Path(keys_file) if keys_file else None
        self._stamp: tuple[int, int] | None = None
        self.ring = self._build()  # raises KeysError at start: refuse to run on a bad file

    def _file_stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _build(self) -> KeyRing:
        server, client, secrets = list(self._env_server), list(self._env_client), list(
            self._env_secrets
        )
        self._stamp = self._file_stamp()
        if self.path is not None:
            f_server, f_client, f_secrets = read_keys_file(self.path)
            server += f_server
            client += f_client
            secrets += f_secrets
        return KeyRing(server, client, secrets)

    def reload_if_changed(self) -> bool:
        """Re-read the keys file if it changed; a broken file keeps the current keys (logged,
        without key material). True when new keys were loaded."""
        if self.path is None or self._file_stamp() == self._stamp:
            return False
        try:
            ring = self._build()
        except KeysError as exc:
            log.warning("keys file changed but was not loaded, keeping the current keys: %s", exc)
            return False
        self.ring = ring
        counts = ring.counts
        log.info(
            "keys reloaded from %s: %d server, %d client", self.path, counts["server"],
            counts["client"],
        )
        return True
