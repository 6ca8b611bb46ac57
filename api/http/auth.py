"""API keys: `Authorization: Bearer <prefix>.<secret>` on writes, scopes read < write < admin.

A key is stored only as an argon2 hash of its secret (argon2-cffi), found by its public
prefix, so one slow verification answers each new key; a verified key is then remembered in
this process for `API_KEY_CACHE_SECONDS` (default 60) as a SHA-256 digest compared in constant
time. A revoked key therefore stops working within that time on every worker. Keys are never
logged.
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
from flask import Flask, current_app, g, request
from flask_smorest import abort

from api.store.db import database
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
    """Revoke a key by name (it stops working within the cache time)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with database.connection_context():
        updated = (
            ApiKey.update(revoked_at=now)
            .where((ApiKey.name == name) & ApiKey.revoked_at.is_null())
            .execute()
        )
    if not updated:
        raise KeyProblem(f"No active key named {name!r}.")


# prefix -> (sha256 of key, scope, expiry, key name)
_cache: dict[str, tuple[bytes, str, float, str]] = {}
_cache_lock = threading.Lock()


def verify(presented: str, cache_seconds: float = 60.0) -> str | None:
    """The scope of a presented key, or None when it is not a valid, active key."""
    found = identify(presented, cache_seconds)
    return None if found is None else found[1]


def identify(presented: str, cache_seconds: float = 60.0) -> tuple[str, str] | None:
    """(name, scope) of a presented key, or None when it is not a valid, active key."""
    body = presented.removeprefix("bk_")
    prefix, _, secret = body.partition(".")
    if not prefix or not secret:
        return None
    digest = hashlib.sha256(presented.encode()).digest()
    with _cache_lock:
        cached = _cache.get(prefix)
    if cached and cached[2] > time.monotonic():
        return (cached[3], cached[1]) if hmac.compare_digest(cached[0], digest) else None
    with database.connection_context():
        key = ApiKey.get_or_none((ApiKey.prefix == prefix) & ApiKey.revoked_at.is_null())
    if key is None:
        HASHER.hash(secret)  # about as slow as a verification: no timing hint of the prefix
        return None
    try:
        HASHER.verify(key.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return None
    if cache_seconds > 0:
        with _cache_lock:
            _cache[prefix] = (digest, key.scope, time.monotonic() + cache_seconds, key.name)
    return key.name, key.scope


def clear_cache() -> None:
    """Forget every verified key (tests; a revocation that must apply at once)."""
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
    found = identify(token.strip(), current_app.config.get("API_KEY_CACHE_SECONDS", 60))
    if found is None:
        challenge["WWW-Authenticate"] += ', error="invalid_token"'
        abort(
            401,
            message="The API key is not valid (unknown, revoked or mistyped).",
            headers=challenge,
        )
    g.api_key_name, scope = found
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
