"""What a refused import reports: one `Problem` per error, naming file, record and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One error: `path` is machine-readable (`events[3].date`), `label` is for a reader
    (`events[3] (rocket-strike-x) date`)."""

    file: str
    path: str
    label: str
    message: str

    def line(self) -> str:
        """`file: events[3] (rocket-strike-x) date: message`."""
        return f"{self.file}: {self.label}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class SeedError(Exception):
    """A refused import. `problems` are readable lines, `items` the Problem objects."""

    def __init__(self, problems: list[Problem] | list[str]):
        self.items = [p for p in problems if isinstance(p, Problem)]
        self.problems = [p.line() if isinstance(p, Problem) else p for p in problems]
        super().__init__("\n".join(self.problems))


def record_name(collection: str, record: Any) -> str | None:
    """A record's id, or `subject predicate object` for a relation; None when unreadable."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("id"), str):
        return record["id"]
    parts: list[Any] = [record.get(key) for key in ("subject", "predicate", "object")]
    return " ".join(parts) if all(isinstance(p, str) for p in parts) else None


class Reporter:
    """Collects the problems of one file."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(
        self,
        message: str,
        collection: str = "",
        index: int | None = None,
        name: str | None = None,
        field: str = "",
    ) -> None:
        """A problem of `collection[index]` (named `name`) at `field`, or of the bundle."""
        if index is None:
            path = ".".join(part for part in (collection, field) if part)
            label = path or "(bundle)"
        else:
            record = f"{collection}[{index}]"
            path = f"{record}{'.' if field and not field.startswith('[') else ''}{field}"
            label = f"{record}{f' ({name})' if name else ''} {field or '(record)'}"
        self.problems.append(Problem(self.file, path, label, message))


def flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict as (field path, message) pairs."""
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix, message) for message in messages]
    if isinstance(messages, dict):
        pairs = []
        for key, value in messages.items():
            if key == "_schema":
                part = ""
            elif isinstance(key, int):
                part = f"[{key}]"
            else:
                part = f".{key}" if prefix else str(key)
            pairs.extend(flatten(value, prefix + part))
        return pairs
    return [(prefix, str(messages))]
