"""Public-record citations (seed/README.md, "Citations"): a fact of a record from outside its
source names the public record that supports it, and the fields it supports. The same rules
for an import and for a curated write."""

from __future__ import annotations

from functools import cache

from api.records import of_collection


def public_record_problems(collection: str, record: dict) -> list[tuple[str, str]]:
    """(field, message) of a record's public-record citations: each supports fields of the
    record that hold a value, and the record cites at least one excerpt besides."""
    problems: list[tuple[str, str]] = []
    citations = [c for c in record.get("citations") or [] if isinstance(c, dict)]
    if not citations:
        return problems
    names = set(_supportable(collection))
    for n, citation in enumerate(citations):
        for name in citation.get("supports") or []:
            if name not in names:
                kind = of_collection(collection).name
                message = (
                    f"{name!r} is not a field of {'an' if kind[0] in 'aeiou' else 'a'} {kind}."
                )
            elif record.get(name) in (None, "", []):
                message = f"{name!r} is empty in this record: a public record supports a value."
            else:
                continue
            problems.append((f"citations[{n}].supports", message))
    if all(c.get("excerpt") is None for c in citations):
        problems.append(
            (
                "citations",
                "At least one citation must be an excerpt of a source; a public record only "
                "adds to it.",
            )
        )
    return problems


@cache
def _supportable(collection: str) -> tuple[str, ...]:
    """The fields of a collection's records that a citation can support."""
    schema = of_collection(collection).bundle_schema()
    return tuple(name for name in schema.fields if name not in ("id", "citations"))
