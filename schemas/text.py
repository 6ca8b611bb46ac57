"""The one input rule for text, on both backends: no control character but tab, line feed and
carriage return, and no lone surrogate. SQLite would store them; PostgreSQL refuses NUL (and
an unpaired surrogate cannot be encoded), and none of them belongs in briefing text."""

from __future__ import annotations

import re
from typing import Any

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def refusal(text: str) -> str | None:
    """Why `text` breaks the rule (naming the first character it may not hold), or None."""
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    return (
        f"Holds U+{ord(found.group()):04X}, a control character (or lone surrogate) that text "
        "may not contain; only tab, line feed and carriage return are allowed."
    )


def refusals(value: Any) -> dict | list | None:
    """marshmallow-shaped messages for every string in `value` (mappings, lists, their keys)
    that breaks the rule: `{"text": [...]}`, `{"aliases": {2: [...]}}`; None when all keep it."""
    if isinstance(value, str):
        message = refusal(value)
        return [message] if message else None
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            problem = refusals(key) if isinstance(key, str) else None
            inner = refusals(item)
            if problem or inner:
                found[key] = problem or inner
        return found or None
    if isinstance(value, list):
        found = {n: inner for n, item in enumerate(value) if (inner := refusals(item))}
        return found or None
    return None
