"""Push: webhook subscriptions, their signed deliveries and the delivery worker (`briefing
deliver`). The outbox they read is written with each change (api/ingest/outbox.py); the live
stream is HTTP's (api/http/resources/stream.py).

No Flask here: the settings come in as a `PushSettings`, read from the app's config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class PushSettings:
    """The settings of subscriptions and deliveries (README's Configuration table)."""

    allow_http: bool = False  # WEBHOOK_ALLOW_HTTP: http:// targets (development)
    allow_loopback: bool = False  # WEBHOOK_ALLOW_LOOPBACK: loopback targets (tests, local use)
    max_attempts: int = 8  # DELIVERY_MAX_ATTEMPTS: then the subscription is disabled
    backoff_seconds: float = 10.0  # DELIVERY_BACKOFF_SECONDS: the first retry's delay
    backoff_max_seconds: float = 3600.0  # DELIVERY_BACKOFF_MAX_SECONDS: the longest delay
    timeout_seconds: float = 5.0  # DELIVERY_TIMEOUT_SECONDS: connect, and each read
    lease_seconds: float = 30.0  # DELIVERY_LEASE_SECONDS: a crashed worker's claim lapses
    concurrency: int = 4  # DELIVERY_CONCURRENCY: subscriptions one worker serves at once
    poll_seconds: float = 0.2  # DELIVERY_POLL_SECONDS: idle wait between claims
    batch: int = 100  # deliveries of one subscription per claim
    retention_seconds: float = 604800.0  # DELIVERY_RETENTION_SECONDS: then done ones go
    secret_grace_seconds: float = 86400.0  # WEBHOOK_SECRET_GRACE_SECONDS: old secret signs

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PushSettings:
        """The settings named in `config` (a Flask app's), the defaults for the others."""
        names = {
            "allow_http": "WEBHOOK_ALLOW_HTTP",
            "allow_loopback": "WEBHOOK_ALLOW_LOOPBACK",
            "max_attempts": "DELIVERY_MAX_ATTEMPTS",
            "backoff_seconds": "DELIVERY_BACKOFF_SECONDS",
            "backoff_max_seconds": "DELIVERY_BACKOFF_MAX_SECONDS",
            "timeout_seconds": "DELIVERY_TIMEOUT_SECONDS",
            "lease_seconds": "DELIVERY_LEASE_SECONDS",
            "concurrency": "DELIVERY_CONCURRENCY",
            "poll_seconds": "DELIVERY_POLL_SECONDS",
            "retention_seconds": "DELIVERY_RETENTION_SECONDS",
            "secret_grace_seconds": "WEBHOOK_SECRET_GRACE_SECONDS",
        }
        types = {field.name: field.type for field in fields(cls)}
        given = {}
        for name, setting in names.items():
            if config.get(setting) is not None:
                kind = {"bool": bool, "int": int, "float": float}[str(types[name])]
                given[name] = kind(config[setting])
        return cls(**given)
