"""Search across collections: one ranked full-text query over every record type, with
snippets."""

from __future__ import annotations

import functools
import operator

import peewee as pw

from api.db import database
from api.models import Actor, Event, Location, SearchDocument, Source, Statement
from api.paths import record_url
from api.queries import fulltext
from api.queries.snippets import snippet

MODELS: dict[str, type[pw.Model]] = {
    "actor": Actor,
    "event": Event,
    "statement": Statement,
    "location": Location,
    "source": Source,
}


def search_all(text: str, types: list[str], limit: int) -> tuple[list[dict], int]:
    """The best `limit` hits across `types`, and how many hits there are in all: two queries.

    The hits of each type come from fulltext.py; the best `limit` of their UNION ALL are picked
    first, and only those are joined to their documents and public ids.
    """
    arms = [
        fulltext.matches(t, text).select_extend(pw.Value(t).alias("record_type")) for t in types
    ]
    hits = functools.reduce(operator.add, arms).alias("hits")
    # Counting needs no rank: the same matches, projecting a constant.
    counted = functools.reduce(
        operator.add, [fulltext.matches(t, text).select(pw.SQL("1")) for t in types]
    ).alias("counted")
    total = pw.Select([counted], [pw.fn.COUNT(pw.SQL("*"))]).bind(database).scalar()
    order = (hits.c.rank, hits.c.record_type, hits.c.record_id)
    best = (
        pw.Select([hits], [hits.c.record_type, hits.c.record_id, hits.c.rank])
        .order_by(*order)
        .limit(limit)
        .alias("best")
    )
    doc = SearchDocument
    models = [MODELS[t] for t in types]
    slugs = [model.slug for model in models]  # one per type, joined only on its own hits
    query = doc.select(
        best.c.record_type.alias("record_type"),
        best.c.rank.alias("rank"),
        doc.title,
        doc.body,
        (pw.fn.COALESCE(*slugs) if len(slugs) > 1 else slugs[0]).alias("slug"),
    ).join(best, on=(doc.record_type == best.c.record_type) & (doc.record_id == best.c.record_id))
    for record_type, model in zip(types, models, strict=True):
        query = query.join_from(
            doc,
            model,
            pw.JOIN.LEFT_OUTER,
            on=(best.c.record_type == record_type) & (model.id == best.c.record_id),
        )
    query = query.order_by(best.c.rank, best.c.record_type, best.c.record_id)
    words = fulltext.tokens(text)
    results = [
        {
            "record_type": row["record_type"],
            "id": row["slug"],
            "title": row["title"],
            "snippet": snippet([row["body"], row["title"]], words),
            "score": round(-float(row["rank"]), 6) + 0.0,
            "url": record_url(row["record_type"], row["slug"]),
        }
        for row in query.dicts()
    ]
    return results, total
