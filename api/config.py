"""Settings from the environment: the one table of every variable the service reads.

| Variable                | Default                          | Meaning (README has more)        |
|-------------------------|----------------------------------|----------------------------------|
| `DATABASE_URL`          | `sqlite:///instance/briefing.db` | `sqlite:///p` or `postgresql://` |
| `DB_POOL_SIZE`          | `8`                              | connections kept per worker      |
| `DATABASE_READONLY`     | `0`                              | `1`: serve SQLite read-only      |
| `HOST`                  | `127.0.0.1`                      | address `make run` binds         |
| `PORT`                  | `8000`                           | port `make run` binds            |
| `WORKERS`               | `2`                              | gunicorn worker processes        |
| `WORKER_CONNECTIONS`    | `1000`                           | connections one worker holds     |
| `SECRET_KEY`            | a public development key         | signs cursors (same everywhere)  |
| `PUBLIC_URL`            | unset: the address listened on   | base of absolute URLs and Links  |
| `PROXY_COUNT`           | `0`                              | proxies trusted (X-Forwarded-*)  |
| `QUERY_TIMEOUT_MS`      | `3000`                           | DB time per request (503 beyond) |
| `RETRY_AFTER_SECONDS`   | `5`                              | `Retry-After` of a 503           |
| `RATELIMIT_ENABLED`     | `1` (`0` under tests)            | `0`: no rate limiting            |
| `RATELIMIT_DEFAULT`     | `1200/minute;60/second`          | requests per client (429 beyond) |
| `RATELIMIT_STORAGE_URI` | `memory://`                      | `redis://...` shares the budget  |
| `MAX_BUNDLE_BYTES`      | `5242880` (5 MB)                 | largest request body (413)       |
| `API_KEY_CACHE_SECONDS` | `60`                             | seconds a verified secret is kept|
| `API_KEY_LAST_USED_SECONDS` | `60`                       | last use written once per this   |
| `AUTH_FAILURE_LIMIT`    | `10/minute`                      | failed keys per client, per key  |
| `READS_REQUIRE_KEY`     | `0`                              | `1`: reads need a `read` key     |
| `EXACT_COUNT_LIMIT`     | `10000`                          | exact totals up to this many     |
| `RESPONSE_CACHE`        | `on` (`off` under tests)         | `off`: compute every response    |
| `RESPONSE_CACHE_MB`     | `64`                             | response cache size per worker   |
| `SHARED_ANSWERS`        | `on` (`off` under tests)         | answers shared by workers        |
| `STREAMS_PER_CLIENT`    | `10`                             | open streams per client, worker  |
| `STREAM_HEARTBEAT_SECONDS` | `15`                          | a stream's comment when idle     |
| `STREAM_POLL_SECONDS`   | `0.25`                           | how often streams look for news  |
| `STREAM_MAX_SECONDS`    | `900`                            | a stream ends (clients resume)   |
| `WEBHOOK_ALLOW_HTTP`    | `0`                              | `1`: http:// targets (dev only)  |
| `WEBHOOK_ALLOW_LOOPBACK`| `0`                              | `1`: loopback targets (tests)    |
| `WEBHOOK_SECRET_GRACE_SECONDS` | `86400`                   | a rotated secret still signs     |
| `DELIVERY_MAX_ATTEMPTS` | `8`                              | then the subscription is disabled|
| `DELIVERY_BACKOFF_SECONDS` | `10`                          | first retry delay (doubles)      |
| `DELIVERY_BACKOFF_MAX_SECONDS` | `3600`                    | longest retry delay              |
| `DELIVERY_TIMEOUT_SECONDS` | `5`                           | connect / read timeout           |
| `DELIVERY_LEASE_SECONDS` | `30`                            | a dead worker's claim lapses     |
| `DELIVERY_CONCURRENCY`  | `4`                              | subscriptions a worker serves    |
| `DELIVERY_POLL_SECONDS` | `0.2`                            | idle wait of a worker (SQLite)   |
| `DELIVERY_RETENTION_SECONDS` | `604800` (7 days)           | then done deliveries are removed |
| `STIX_NAMESPACE`        | the service's default UUID       | namespace of STIX ids (UUIDv5)   |
| `RELEASES_DIR`          | unset: beside the database       | where release downloads are kept |

The default SQLite file lives in `instance/` under the working directory, created on first use.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///instance/briefing.db"
# Public on purpose: cursors carry no secret and are strictly checked after the signature, so a
# known key only lets a client mint a cursor it could have been given. Set SECRET_KEY anyway.
DEV_SECRET_KEY = "briefing-api-development-key-set-SECRET_KEY"
# The namespace of STIX ids (UUIDv5 of each record's public id) when STIX_NAMESPACE is unset:
# a deployment that publishes STIX sets its own, once, and keeps it (changing it changes every id)
DEFAULT_STIX_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:briefing-api:stix:default-namespace")


def flag(value: str | None, default: bool) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off."""
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PUSH_SETTINGS = (
    "STREAMS_PER_CLIENT",
    "STREAM_HEARTBEAT_SECONDS",
    "STREAM_POLL_SECONDS",
    "STREAM_MAX_SECONDS",
    "WEBHOOK_SECRET_GRACE_SECONDS",
    "DELIVERY_MAX_ATTEMPTS",
    "DELIVERY_BACKOFF_SECONDS",
    "DELIVERY_BACKOFF_MAX_SECONDS",
    "DELIVERY_TIMEOUT_SECONDS",
    "DELIVERY_LEASE_SECONDS",
    "DELIVERY_CONCURRENCY",
    "DELIVERY_POLL_SECONDS",
    "DELIVERY_RETENTION_SECONDS",
)


def settings_from_env() -> dict[str, Any]:
    """The service settings, read from the environment now (not at import)."""
    env = os.environ
    settings: dict[str, Any] = {
        "DATABASE_URL": env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE", "8")),
        # Imports and API keys (api/ingest, api/http/auth.py)
        "MAX_CONTENT_LENGTH": int(env.get("MAX_BUNDLE_BYTES", str(5 * 1024 * 1024))),
        "API_KEY_CACHE_SECONDS": float(env.get("API_KEY_CACHE_SECONDS", "60")),
        "API_KEY_LAST_USED_SECONDS": float(env.get("API_KEY_LAST_USED_SECONDS", "60")),
        "AUTH_FAILURE_LIMIT": env.get("AUTH_FAILURE_LIMIT", "10/minute"),
        "READS_REQUIRE_KEY": flag(env.get("READS_REQUIRE_KEY"), False),
        # hardening
        "SECRET_KEY": env.get("SECRET_KEY") or DEV_SECRET_KEY,
        "PUBLIC_URL": (env.get("PUBLIC_URL") or "").rstrip("/"),
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        "QUERY_TIMEOUT_MS": int(env.get("QUERY_TIMEOUT_MS", "3000")),
        "DATABASE_READONLY": flag(env.get("DATABASE_READONLY"), False),
        "RATELIMIT_DEFAULT": env.get("RATELIMIT_DEFAULT", "1200/minute;60/second"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RETRY_AFTER_SECONDS": int(env.get("RETRY_AFTER_SECONDS", "5")),
        # performance
        "EXACT_COUNT_LIMIT": int(env.get("EXACT_COUNT_LIMIT", "10000")),
        "RESPONSE_CACHE_MB": float(env.get("RESPONSE_CACHE_MB", "64")),
        # STIX and TAXII (api/queries/stix.py)
        "STIX_NAMESPACE": uuid.UUID(env["STIX_NAMESPACE"])
        if env.get("STIX_NAMESPACE")
        else DEFAULT_STIX_NAMESPACE,
        "RELEASES_DIR": env.get("RELEASES_DIR") or None,
    }
    # push (api/push, api/http/streams.py): read only when set, their defaults are theirs
    for name in PUSH_SETTINGS:
        if env.get(name):
            settings[name] = float(env[name])
    for name in ("WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_LOOPBACK"):
        if env.get(name) is not None:
            settings[name] = flag(env.get(name), False)
    if env.get("RESPONSE_CACHE") is not None:
        settings["RESPONSE_CACHE"] = flag(env.get("RESPONSE_CACHE"), True)
    if env.get("SHARED_ANSWERS") is not None:
        settings["SHARED_ANSWERS"] = flag(env.get("SHARED_ANSWERS"), True)
    if env.get("RATELIMIT_ENABLED") is not None:
        settings["RATELIMIT_ENABLED"] = flag(env.get("RATELIMIT_ENABLED"), True)
    return settings


# flask-smorest and Flask settings that do not vary between deployments.
STATIC_SETTINGS: dict[str, Any] = {
    "API_TITLE": "briefing-api",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
    # Flask-Limiter: IETF RateLimit header names; Retry-After on a 429.
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_HEADER_LIMIT": "RateLimit-Limit",
    "RATELIMIT_HEADER_REMAINING": "RateLimit-Remaining",
    "RATELIMIT_HEADER_RESET": "RateLimit-Reset",
    "RATELIMIT_SWALLOW_ERRORS": True,  # a storage outage must not take the API down
}
