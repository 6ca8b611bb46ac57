"""The API keys' lifecycle, one code path for `briefing keys` and `/v1/keys` alike: create (the
secret returned once), list and describe (never a secret or a hash), revoke, and rotate (a new
secret for the same key, the previous one accepted until its grace ends). Keys are stored only
as argon2 hashes (api/http/auth.py verifies them).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

import peewee as pw

from api.http import auth
from api.store.db import database
from api.store.models import DEFAULT_OWNER, ApiKey, utcnow
from schemas.keys import DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS, NAME_PATTERN

NAME = re.compile(NAME_PATTERN)  # of a key and of an owner
NAME_RULE = "1 to 100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"


class KeyProblem(Exception):
    """A key operation that cannot be done (bad scope or expiry: HTTP 422)."""


class KeyExists(KeyProblem):
    """A key of that name exists already (HTTP 409)."""


class UnknownKey(KeyProblem):
    """No key (or no active key, for revoke and rotate) has that name (HTTP 404)."""


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=dt.UTC)


def _new_secret() -> tuple[str, str]:
    """A secret and its argon2 hash."""
    secret = secrets.token_urlsafe(32)
    return secret, auth.HASHER.hash(secret)


def create_key(
    name: str,
    scope: str,
    owner: str = DEFAULT_OWNER,
    expires_at: dt.datetime | None = None,
) -> str:
    """Store a new key of `owner` and return it (the only time its secret exists outside a
    hash); `expires_at` (UTC when naive) must lie ahead."""
    if scope not in auth.SCOPES:
        raise KeyProblem(f"Unknown scope {scope!r}: one of {', '.join(auth.SCOPES)}.")
    for label, value in (("name", name), ("owner", owner)):
        if not NAME.fullmatch(value):
            raise KeyProblem(f"A key's {label} is {NAME_RULE}, not {value!r}.")
    now = utcnow()
    expires = None if expires_at is None else _naive_utc(expires_at)
    if expires is not None and expires <= now:
        raise KeyProblem("A key's expiry must lie in the future.")
    prefix = secrets.token_hex(6)
    secret, hashed = _new_secret()
    try:
        with database.connection_context(), database.atomic():
            ApiKey.create(
                name=name,
                prefix=prefix,
                secret_hash=hashed,
                scope=scope,
                owner=owner,
                created_at=now,
                expires_at=expires,
            )
    except pw.IntegrityError as error:  # the unique name (two creations at once included)
        raise KeyExists(f"A key named {name!r} exists already.") from error
    return f"bk_{prefix}.{secret}"


def describe(key: Any) -> dict[str, Any]:
    """A key as it is shown: never its secret or a hash (times in UTC)."""
    now = utcnow()
    grace = key.previous_until if key.previous_until and key.previous_until > now else None
    if key.revoked_at is not None:
        state = "revoked"
    elif key.expires_at is not None and key.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "name": key.name,
        "prefix": f"bk_{key.prefix}",
        "owner": key.owner,
        "scope": key.scope,
        "state": state,
        "created_at": _aware(key.created_at),
        "expires_at": _aware(key.expires_at),
        "last_used_at": _aware(key.last_used_at),
        "revoked_at": _aware(key.revoked_at),
        "previous_secret_until": _aware(grace),
    }


def list_keys() -> list[dict[str, Any]]:
    """Every key, by name (see `describe`)."""
    with database.connection_context():
        return [describe(key) for key in ApiKey.select().order_by(ApiKey.name)]


def get_key(name: str) -> dict[str, Any]:
    """One key by name (see `describe`); UnknownKey when none has that name."""
    with database.connection_context():
        key = ApiKey.get_or_none(ApiKey.name == name)
        if key is None:
            raise UnknownKey(f"No key is named {name!r}.")
        return describe(key)


def _active(name: str) -> Any:
    now = utcnow()
    key = ApiKey.get_or_none(
        (ApiKey.name == name)
        & ApiKey.revoked_at.is_null()
        & (ApiKey.expires_at.is_null() | (ApiKey.expires_at > now))
    )
    if key is None:
        raise UnknownKey(f"No active key named {name!r}.")
    return key


def revoke_key(name: str) -> dict[str, Any]:
    """Revoke a key by name: refused from the next request on, by every worker."""
    with database.connection_context(), database.atomic():
        key = _active(name)
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.id == key.id).execute()
        return describe(ApiKey.get_by_id(key.id))


def rotate_key(name: str, grace_seconds: int = DEFAULT_GRACE_SECONDS) -> tuple[str, dict]:
    """A new secret for an active key (same name, prefix, owner and scope): (the new key,
    shown once; the key described). The previous secret opens it for `grace_seconds` more
    (0: not at all); a secret older than that (a second rotation) stops at once."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise KeyProblem(f"The grace period is 0 to {MAX_GRACE_SECONDS} seconds.")
    secret, hashed = _new_secret()
    with database.connection_context(), database.atomic():
        key = _active(name)
        until = utcnow() + dt.timedelta(seconds=grace_seconds) if grace_seconds else None
        ApiKey.update(
            secret_hash=hashed,
            previous_hash=key.secret_hash if until else None,
            previous_until=until,
        ).where(ApiKey.id == key.id).execute()
        return f"bk_{key.prefix}.{secret}", describe(ApiKey.get_by_id(key.id))
