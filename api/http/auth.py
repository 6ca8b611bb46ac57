"""API keys: `Authorization: Bearer <prefix>.<secret>` on writes, scopes read < write < admin.

A key is stored only as an argon2 hash of its secret (argon2-cffi), found by its public
prefix. Every request reads the key's row (one indexed read), so a revoked or expired key or a
narrowed scope applies on the next request on every worker. An unknown prefix is refused
without hashing; a wrong secret is always verified with argon2 (about as slow whether or not
this worker knows the key); a right one this worker verified within `API_KEY_CACHE_SECONDS` is
not verified again. After a rotation the previous secret opens the key until its grace ends.
Failures are limited per client and per key prefix (`AUTH_FAILURE_LIMIT`: 429 before any
hashing). Keys are never logged. The key's owner and scope make the request's `Principal`
(api/ingest/owners.py); its last use is written at most once per `API_KEY_LAST_USED_SECONDS`.
The keys' lifecycle (create, list, revoke, rotate) is api/http/keys.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import peewee as pw
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import LRUCache
from flask import Flask, current_app, g, request

from api.http import limits
from api.http.errors import TAXII_PREFIX, abort
from api.http.offload import run_blocking
from api.ingest import Principal
from api.store.db import bound_to, database
from api.store.models import ApiKey, utcnow
from schemas.keys import SCOPES

SECURITY_SCHEME_NAME = "bearerAuth"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "<prefix>.<secret>, from `briefing keys create`",
    "description": "An API key. Reads are public (unless READS_REQUIRE_KEY=1: scope `read`); "
    "writes need the `write` scope and a key of the owner of what they change (or `admin`); "
    "the audit trail and the keys need `admin`.",
}
HASHER = PasswordHasher()
log = logging.getLogger(__name__)


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


def _hashes(key: Any) -> list[str]:
    """The hashes that open a key: its secret's, and the previous one's within its grace."""
    previous = key.previous_hash and key.previous_until and key.previous_until > utcnow()
    return [key.secret_hash, key.previous_hash] if previous else [key.secret_hash]


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
        return None, None  # an unknown, revoked or expired prefix: no hashing
    hashes = _hashes(key)
    verified = entry[1].encode() if entry is not None and remembered else None
    if verified and any(hmac.compare_digest(verified, h.encode()) for h in hashes):
        return key, prefix
    for stored in hashes:  # the current secret, then the previous one within its grace
        try:
            run_blocking(HASHER.verify, stored, secret)
        except (VerificationError, InvalidHashError):
            continue
        if cache_seconds > 0:
            with _cache_lock:
                _cache[fast] = (prefix, stored, time.monotonic() + cache_seconds)
        return key, prefix
    return None, prefix


def _failure_subjects(client: str, prefix: str | None) -> list[str]:
    """What a failed authentication is charged to: the client, and the prefix when it has one."""
    return [f"client:{client}"] + ([f"prefix:{prefix}"] if prefix else [])


ACTIVE_KEY_COLUMNS = (
    ApiKey.id,
    ApiKey.expires_at,
    ApiKey.name,
    ApiKey.scope,
    ApiKey.owner,
    ApiKey.secret_hash,
    ApiKey.previous_hash,
    ApiKey.previous_until,
    ApiKey.last_used_at,
)


def _active_key(prefix: str) -> Any:
    query = ApiKey.select(*ACTIVE_KEY_COLUMNS).where(
        (ApiKey.prefix == prefix) & ApiKey.revoked_at.is_null()
    )
    with bound_to(None):  # keys are the live database's, whatever a request reads (releases)
        if not database.is_closed():  # within a request: its connection
            key = query.get_or_none()
        else:
            with database.connection_context():
                key = query.get_or_none()
    # the expiry is tested here, not in SQL: a datetime parameter in the query cost about
    # 1.8 ms a request on SQLite (bench/auth_cost.py)
    if key is not None and key.expires_at is not None and key.expires_at <= utcnow():
        return None
    return key


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
    g.principal = Principal(key.name, key.owner, admin=grants(scope, "admin"))
    touch(key, current_app.config.get("API_KEY_LAST_USED_SECONDS", 60))
    if not grants(scope, needed):
        abort(403, message=f"This operation needs a key with the {needed!r} scope.")


def touch(key: Any, every_seconds: float) -> None:
    """Record the key's last use, at most once per `every_seconds` per key across workers:
    skipped while the row read says it was written within that time, and conditional, so
    that of workers racing only one writes. Best effort: a database that cannot take the
    write now (a read-only file, a busy lock) leaves the previous time."""
    now = utcnow()
    due = now - dt.timedelta(seconds=every_seconds)
    if key.last_used_at is not None and key.last_used_at > due:
        return
    try:  # off the worker's loop: on SQLite the write may wait for an import's lock
        run_blocking(_write_last_use, key.id, now, due, database=True)
    except pw.DatabaseError as error:
        log.warning("The last use of a key was not recorded: %s", type(error).__name__)


def _write_last_use(key_id: int, now: dt.datetime, due: dt.datetime) -> None:
    write = ApiKey.update(last_used_at=now).where(
        (ApiKey.id == key_id) & (ApiKey.last_used_at.is_null() | (ApiKey.last_used_at <= due))
    )
    with bound_to(None):  # the live database's key, whatever the request reads (releases)
        if not database.is_closed():
            write.execute()
        else:
            with database.connection_context():
                write.execute()


def require(needed: str) -> Callable:
    """A view decorator: 401 (with WWW-Authenticate) without a valid key, 403 without scope."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(needed)
            return view(*args, **kwargs)

        return wrapper

    return decorate


POSTED_READS = ("/v1/reconcile",)  # reads whose questions are POSTed (a batch of queries)


def init_private_reads(app: Flask) -> None:
    """`READS_REQUIRE_KEY=1`: every read under /v1 and of the TAXII server needs a key (scope
    `read` or more)."""
    if not app.config.get("READS_REQUIRE_KEY"):
        return

    @app.before_request
    def _reads_need_a_key() -> None:
        reading = request.method in ("GET", "HEAD") or request.path in POSTED_READS
        if reading and request.path.startswith(("/v1/", TAXII_PREFIX)):
            authorize("read")


def principal() -> Principal:
    """Who writes: the key that authorised this request, its owner and whether it is an
    admin key (after `require`)."""
    found = g.get("principal")
    assert found is not None, "principal() before require()"
    return found


def is_admin() -> bool:
    """Whether this request's key (after `require`) has the `admin` scope."""
    return principal().admin


def security(scope: str) -> dict:
    """The `doc` of an operation that needs a key (the spec's security requirement)."""
    return {"security": [{SECURITY_SCHEME_NAME: []}]}
