"""API keys: `Authorization: Bearer <prefix>.<secret>` on writes, scopes read < write < admin.

A key is stored only as an argon2 hash of its secret (argon2-cffi), found by its public
prefix. Every request reads the key's row (one indexed read), so a revoked key or a narrowed
scope applies on the next request on every worker. An unknown prefix is refused without
hashing; a wrong secret is always verified with argon2 (about as slow whether or not this
worker knows the key); a right one this worker verified within `API_KEY_CACHE_SECONDS` is not
verified again. Failures are limited per client and per key prefix (`AUTH_FAILURE_LIMIT`: 429
before any hashing). Keys are never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import LRUCache
from flask import Flask, current_app, g, request

from api.http import limits
from api.http.errors import abort
from api.http.offload import run_blocking
from api.store.db import bound_to, database
from api.store.models import ApiKey

SCOPES = ("read", "write", "admin")  # each implies the ones before it
SECURITY_SCHEME_NAME = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "<prefix>.<secret>, from `briefing keys create`",
    "description": "An API key. Reads are public (unless READS_REQUIRE_KEY=1: scope `read`); "
    "writes need the `write` scope, the audit trail `admin`.",
}
HASHER = PasswordHasher()


class KeyProblem(Exception):
    """A key operation that cannot be done (duplicate name, unknown key, bad scope)."""


def create_key(name: str, scope: str) -> str:
    """Store a new key and return it (the only time its secret exists outside a hash)."""
    if scope not in SCOPES:
        raise KeyProblem(f"Unknown scope {scope!r}: one of {', '.join(SCOPES)}.")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with database.connection_context(), database.atomic():
        if ApiKey.select().where(ApiKey.name == name).exists():
            raise KeyProblem(f"A key named {name!r} exists already.")
        ApiKey.create(
            name=name,
            prefix=prefix,
            secret_hash=HASHER.hash(secret),
            scope=scope,
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
    return f"bk_{prefix}.{secret}"


def list_keys() -> list[dict[str, Any]]:
    """Every key: name, prefix, scope, created, revoked (never a secret)."""
    with database.connection_context():
        return [
            {
                "name": key.name,
                "prefix": f"bk_{key.prefix}",
                "scope": key.scope,
                "created_at": key.created_at,
                "revoked_at": key.revoked_at,
            }
            for key in ApiKey.select().order_by(ApiKey.name)
        ]


def revoke_key(name: str) -> None:
    """Revoke a key by name (refused from the next request on)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with database.connection_context():
        updated = (
            ApiKey.update(revoked_at=now)
            .where((ApiKey.name == name) & ApiKey.revoked_at.is_null())
            .execute()
        )
    if not updated:
        raise KeyProblem(f"No active key named {name!r}.")


# A verified key, remembered by a keyed hash of the whole presented key (the process's own
# random key, so a client cannot aim at an entry): a wrong secret is never found here and is
# always verified with argon2, cached prefix or not; the right one skips argon2. The key's row
# is read on every request all the same (one indexed read), so a revocation or a new scope
# applies at once on every worker. Entry: (prefix, argon2 hash it was verified against, expiry).
_cache: LRUCache = LRUCache(maxsize=4096)
_cache_lock = threading.Lock()
_CACHE_KEY = secrets.token_bytes(32)


def verify(presented: str, cache_seconds: float = 60.0) -> str | None:
    """The scope of a presented key, or None when it is not a valid, active key."""
    found = identify(presented, cache_seconds)
    return None if found is None else found[1]


def identify(presented: str, cache_seconds: float = 60.0) -> tuple[str, str] | None:
    """(name, scope) of a presented key, or None when it is not a valid, active key."""
    key, _ = check(presented, cache_seconds, refused=lambda prefix, remembered: None)
    return None if key is None else (key.name, key.scope)


def check(
    presented: str,
    cache_seconds: float,
    refused: Callable[[str | None, bool], None],
) -> tuple[Any, str | None]:
    """(the active key row a presented key opens or None, the prefix when it names an active
    key). `refused(prefix, remembered)` runs before the key is looked up or verified (prefix
    None: the key is malformed; `remembered`: this worker verified this exact key before) and
    may raise to stop there."""
    prefix, _, secret = presented.removeprefix("bk_").partition(".")
    if not prefix or not secret or len(prefix) > 32:
        refused(None, False)
        return None, None
    fast = hmac.new(_CACHE_KEY, presented.encode(), hashlib.sha256).digest()
    with _cache_lock:
        entry = _cache.get(fast)
    remembered = entry is not None and entry[0] == prefix and entry[2] > time.monotonic()
    refused(prefix, remembered)
    key = _active_key(prefix)
    if key is None:
        return None, None  # an unknown or revoked prefix: no hashing
    if remembered and entry and hmac.compare_digest(entry[1].encode(), key.secret_hash.encode()):
        return key, prefix
    try:
        run_blocking(HASHER.verify, key.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return None, prefix
    if cache_seconds > 0:
        with _cache_lock:
            _cache[fast] = (prefix, key.secret_hash, time.monotonic() + cache_seconds)
    return key, prefix


def _failure_subjects(client: str, prefix: str | None) -> list[str]:
    """What a failed authentication is charged to: the client, and the prefix when it has one."""
    return [f"client:{client}"] + ([f"prefix:{prefix}"] if prefix else [])


def _active_key(prefix: str) -> Any:
    query = ApiKey.select(ApiKey.name, ApiKey.scope, ApiKey.secret_hash).where(
        (ApiKey.prefix == prefix) & ApiKey.revoked_at.is_null()
    )
    with bound_to(None):  # keys are the live database's, whatever a request reads (releases)
        if not database.is_closed():  # within a request: its connection
            return query.get_or_none()
        with database.connection_context():
            return query.get_or_none()


def clear_cache() -> None:
    """Forget every verified key (tests)."""
    with _cache_lock:
        _cache.clear()


def grants(scope: str, needed: str) -> bool:
    """True when `scope` includes `needed` (admin > write > read)."""
    return SCOPES.index(scope) >= SCOPES.index(needed)


def authorize(needed: str) -> None:
    """401 (with WWW-Authenticate) without a valid key, 403 without the scope; the key's
    name is kept on `g` for the audit trail."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="briefing-api"'}
    if scheme.lower() != "bearer" or not token.strip():
        abort(
            401,
            message="This operation needs an API key: Authorization: Bearer KEY.",
            headers=challenge,
        )
    client = limits.client_address()

    def refuse_when_over_budget(prefix: str | None, remembered: bool) -> None:
        if remembered:
            return  # a key this worker verified costs no hashing: never held back
        wait = limits.failures_refused(*_failure_subjects(client, prefix))
        if wait is not None:
            abort(
                429,
                message="Too many failed authentications from this client or for this key; "
                "retry after the number of seconds in Retry-After.",
                headers={"Retry-After": str(wait)},
            )

    token = token.strip()
    cache_seconds = current_app.config.get("API_KEY_CACHE_SECONDS", 60)
    key, prefix = check(token, cache_seconds, refuse_when_over_budget)
    if key is None:  # charged to the client, and to the prefix when it names a key
        limits.count_failure(*_failure_subjects(client, prefix))
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        abort(
            401,
            message="The API key is not valid (unknown, revoked or mistyped).",
            headers=challenge,
        )
    g.api_key_name, scope = key.name, key.scope
    if not grants(scope, needed):
        abort(403, message=f"This operation needs a key with the {needed!r} scope.")


def require(needed: str) -> Callable:
    """A view decorator: 401 (with WWW-Authenticate) without a valid key, 403 without scope."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(needed)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def init_private_reads(app: Flask) -> None:
    """`READS_REQUIRE_KEY=1`: every read under /v1 needs a key (scope `read` or more)."""
    if not app.config.get("READS_REQUIRE_KEY"):
        return

    @app.before_request
    def _reads_need_a_key() -> None:
        if request.method in ("GET", "HEAD") and request.path.startswith("/v1/"):
            authorize("read")


def key_name() -> str:
    """The name of the key that authorised this request (after `require`)."""
    return g.get("api_key_name", "anonymous")


def security(scope: str) -> dict:
    """The `doc` of an operation that needs a key (the spec's security requirement)."""
    return {"security": [{SECURITY_SCHEME_NAME: []}]}
