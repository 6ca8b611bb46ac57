"""Absolute URLs in responses: a `Url` field writes a path (`/v1/events/x`) as a full URL,
prefixed with the root of the request being answered, which the HTTP layer sets."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from marshmallow import fields

EXAMPLE_ROOT = "http://127.0.0.1:8000"  # `make run`'s, in the spec's examples
# The root URL (`https://host`) of the request being answered; empty outside a request.
base_url: ContextVar[str] = ContextVar("base_url", default="")


def absolute(path: str | None) -> str | None:
    """`/v1/events/x` -> `https://host/v1/events/x` (other values unchanged)."""
    if path and path.startswith("/"):
        return base_url.get() + path
    return path


class Url(fields.String):
    """A URL of this API, written absolute."""

    def __init__(self, description: str, example_path: str, **kwargs: Any) -> None:
        metadata = {"description": description, "format": "uri"}
        metadata["example"] = EXAMPLE_ROOT + example_path
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return absolute(super()._serialize(value, attr, obj, **kwargs))
