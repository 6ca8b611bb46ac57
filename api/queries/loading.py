"""Batch loading shared by every collection: references and the citations and aliases of many
records at once (one query each, whatever the page size)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import peewee as pw

from api.models import Actor, Citation, Event, Location, Source


def versioned(row: pw.Model) -> dict:
    """`version` and `updated_at` of a writable record (its ETag derives from the version)."""
    return {"version": row.version, "updated_at": row.updated_at.replace(tzinfo=dt.UTC)}


def actor_ref(actor: Actor) -> dict:
    """An actor as other records embed it: `{id, name, kind}`."""
    return {"id": actor.slug, "name": actor.name, "kind": actor.kind}


def location_ref(location: Location) -> dict:
    """A location as other records embed it: `{id, name, kind}`."""
    return {"id": location.slug, "name": location.name, "kind": location.kind}


def event_ref(event: Event) -> dict:
    """An event as other records embed it: `{id, title, date}`."""
    return {"id": event.slug, "title": event.title, "date": event.date}


def by_id(model: type[pw.Model], ids: list[int]) -> dict[int, pw.Model]:
    """Rows of `model` by internal id, in one query (none for no ids)."""
    return {row.id: row for row in model.select().where(model.id.in_(ids))} if ids else {}


def citations_for(record_type: str, ids: list[int]) -> dict[int, list[dict]]:
    """Citations of many records in one query: {record_id: [{source, excerpt}]}."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return result
    query = (
        Citation.select(Citation, Source)
        .join(Source)
        .where((Citation.record_type == record_type) & Citation.record_id.in_(ids))
        .order_by(Citation.record_id, Citation.position, Citation.id)
    )
    for citation in query:
        result[citation.record_id].append(
            {
                "source": {"id": citation.source.slug, "title": citation.source.title},
                "excerpt": citation.excerpt,
            }
        )
    return result


def aliases_for(model: type[pw.Model], owner: pw.Field, ids: list[int]) -> dict[int, list]:
    """Aliases of many records in one query: {owner id: [{name, language}]}."""
    result: dict[int, list] = defaultdict(list)
    if ids:
        for alias in model.select().where(owner.in_(ids)).order_by(model.id):
            result[getattr(alias, f"{owner.name}_id")].append(
                {"name": alias.name, "language": alias.language}
            )
    return result
