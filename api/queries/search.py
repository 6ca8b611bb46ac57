"""Search across collections: one ranked full-text query over every record type, with
snippets."""

from __future__ import annotations

import base64
import binascii
import json

import peewee as pw

from api.models import Actor, Event, Location, SearchDocument, Source, Statement
from api.paths import record_url
from api.queries import fulltext
from api.queries.errors import InvalidParameter
from api.queries.snippets import snippet

MODELS: dict[str, type[pw.Model]] = {
    "actor": Actor,
    "event": Event,
    "statement": Statement,
    "location": Location,
    "source": Source,
}


def encode_cursor(rank: float, record_type: str, record_id: int) -> str:
    raw = json.dumps({"k": rank, "t": record_type, "i": record_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, types: list[str]) -> tuple[float, str, int]:
    """(rank, record_type, record_id) after which the next page starts."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = json.loads(raw)
        rank, record_type, record_id = document["k"], document["t"], document["i"]
        if isinstance(rank, bool) or not isinstance(rank, int | float) or record_type not in types:
            raise ValueError
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameter(
            "cursor",
            "Invalid cursor: pass back the cursor of a Link header unchanged, with the same "
            "q and type.",
            ["Not a cursor issued for this search."],
        ) from None
    return float(rank), record_type, record_id


def search_all(
    text: str, types: list[str], limit: int, cursor: str | None = None
) -> tuple[list[dict], int, str | None]:
    """The best `limit` hits across `types` (after `cursor`), how many hits there are in
    all, and the cursor of the next page: one query (and a count, remembered per data
    version, after the first page). Keyset
    paging on (rank, record_type, record_id), the order of the hits.

    The hits of every type come from one full-text match (fulltext.matches_any); the best
    `limit` are picked first, and only those are joined to their documents and public ids.
    """
    # One read of the index for every type; the first page counts the hits in the same
    # query (a window, or on SQLite an index-only count: fulltext.total_column), a later page
    # apart, remembered per data version (issue #14).
    hits = fulltext.matches_any(types, text).alias("hits")
    order = (hits.c.rank, hits.c.record_type, hits.c.record_id)
    columns = [hits.c.record_type, hits.c.record_id, hits.c.rank]
    windowed = not cursor
    total = None if windowed else fulltext.count_matches(types, text)
    best = pw.Select([hits], columns)
    if windowed:
        best = pw.Select([hits], [*columns, fulltext.total_column(types, text).alias("total")])
    if cursor:
        after = decode_cursor(cursor, types)
        best = best.where(pw.Tuple(*order) > pw.Tuple(*(pw.Value(v) for v in after)))
    best = best.order_by(*order).limit(limit + 1).alias("best")
    doc = SearchDocument
    models = [MODELS[t] for t in types]
    slugs = [model.slug for model in models]  # one per type, joined only on its own hits
    query = doc.select(
        best.c.record_type.alias("record_type"),
        best.c.rank.alias("rank"),
        doc.title,
        doc.body,
        best.c.record_id.alias("record_id"),
        (pw.fn.COALESCE(*slugs) if len(slugs) > 1 else slugs[0]).alias("slug"),
        *([best.c.total.alias("total")] if windowed else []),
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
    rows = list(query.dicts())
    if total is None:
        total = rows[0]["total"] if rows else 0
    more = len(rows) > limit
    rows = rows[:limit]
    results = [
        {
            "record_type": row["record_type"],
            "id": row["slug"],
            "title": row["title"],
            "snippet": snippet([row["body"], row["title"]], words),
            "score": round(-float(row["rank"]), 6) + 0.0,
            "url": record_url(row["record_type"], row["slug"]),
        }
        for row in rows
    ]
    last = rows[-1] if rows else None
    after = encode_cursor(last["rank"], last["record_type"], last["record_id"]) if more else None
    return results, total, after
