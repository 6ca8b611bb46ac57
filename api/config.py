"""Settings from the environment: the one table of every variable the service reads.

| Variable       | Default                          | Meaning                                  |
|----------------|----------------------------------|------------------------------------------|
| `DATABASE_URL` | `sqlite:///instance/briefing.db` | `sqlite:///path` or `postgresql://...`   |
| `DB_POOL_SIZE` | `8`                              | PostgreSQL connections kept per process  |
| `HOST`         | `127.0.0.1`                      | address `make run` binds                 |
| `PORT`         | `8000`                           | port `make run` binds                    |
| `WORKERS`      | `2`                              | gunicorn worker processes (`make run`)   |
| `MAX_BUNDLE_BYTES` | `5242880` (5 MB)             | largest request body; larger gets 413    |
| `API_KEY_CACHE_SECONDS` | `60`                    | seconds a worker trusts a verified key   |

The default SQLite file lives in `instance/` under the working directory, created on first use.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///instance/briefing.db"


def settings_from_env() -> dict[str, Any]:
    """The service settings, read from the environment now (not at import)."""
    env = os.environ
    return {
        "DATABASE_URL": env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE", "8")),
        # Imports and API keys (api/importer, api/auth.py)
        "MAX_CONTENT_LENGTH": int(env.get("MAX_BUNDLE_BYTES", str(5 * 1024 * 1024))),
        "API_KEY_CACHE_SECONDS": float(env.get("API_KEY_CACHE_SECONDS", "60")),
    }


# flask-smorest and Flask settings that do not vary between deployments.
STATIC_SETTINGS: dict[str, Any] = {
    "API_TITLE": "briefing-api",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",
}
