"""Search across collections: one ranked full-text query over every record type, with
snippets."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import operator

import peewee as pw

from api.queries import fulltext, rankings
from api.queries.errors import InvalidParameter
from api.queries.snippets import snippet
from api.records import named, record_url
from api.store.models import SearchDocument


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
    all, and the cursor of the next page. Keyset paging on (rank, record_type, record_id),
    the order of the hits.

    The hits of every type come from one full-text match (fulltext.matches_any); the best
    `limit` are picked first, and only those are joined to their documents and public ids. On
    PostgreSQL the hits are ranked once per data version and kept (api/queries/rankings.py).
    """
    after = decode_cursor(cursor, types) if cursor else None
    ranking = rankings.kept(
        ("search", tuple(sorted(types)), text),
        lambda at_most: fulltext.in_rank_order(types, text, at_most),
    )
    if ranking is not None:
        rows, total = _documents_of(ranking.window(after, "next", limit + 1), types), len(ranking)
    else:
        rows, total = _ranked_documents(text, types, limit, after)
    words = fulltext.tokens(text)
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
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor(last["rank"], last["record_type"], last["record_id"])
    return results, total, next_cursor


def _ranked_documents(
    text: str, types: list[str], limit: int, after: tuple[float, str, int] | None
) -> tuple[list[dict], int]:
    """The best `limit + 1` hits after `after`, joined to their documents and public ids, and
    the number of hits: one query, which on the first page also counts the hits (a window,
    or on SQLite an index-only count: fulltext.total_column); a later page's count apart,
    remembered per data version."""
    hits = fulltext.matches_any(types, text).alias("hits")
    order = (hits.c.rank, hits.c.record_type, hits.c.record_id)
    columns = [hits.c.record_type, hits.c.record_id, hits.c.rank]
    windowed = after is None
    total = None if windowed else fulltext.count_matches(types, text)
    best = pw.Select([hits], columns)
    if after is None:
        best = pw.Select([hits], [*columns, fulltext.total_column(types, text).alias("total")])
    else:
        best = best.where(pw.Tuple(*order) > pw.Tuple(*(pw.Value(v) for v in after)))
    best = best.order_by(*order).limit(limit + 1).alias("best")
    doc = SearchDocument
    query = _with_slugs(
        doc.select(
            best.c.record_type.alias("record_type"),
            best.c.rank.alias("rank"),
            doc.title,
            doc.body,
            best.c.record_id.alias("record_id"),
            *([best.c.total.alias("total")] if windowed else []),
        ).join(
            best, on=(doc.record_type == best.c.record_type) & (doc.record_id == best.c.record_id)
        ),
        types,
        best.c.record_type,
        best.c.record_id,
    )
    rows = list(query.order_by(best.c.rank, best.c.record_type, best.c.record_id).dicts())
    if total is None:
        total = rows[0]["total"] if rows else 0
    return rows, total


def _documents_of(hits: list[rankings.Hit], types: list[str]) -> list[dict]:
    """The documents and public ids of `hits` (rank, record type, record id), in their order:
    one query, by the (record_type, record_id) key."""
    wanted: dict[str, list[int]] = {}
    for _rank, record_type, record_id in hits:
        wanted.setdefault(record_type, []).append(record_id)
    if not wanted:
        return []
    doc = SearchDocument
    which = [(doc.record_type == kind) & doc.record_id.in_(ids) for kind, ids in wanted.items()]
    query = _with_slugs(
        doc.select(doc.record_type, doc.record_id, doc.title, doc.body).where(
            functools.reduce(operator.or_, which)
        ),
        types,
        doc.record_type,
        doc.record_id,
    )
    found = {(row["record_type"], row["record_id"]): row for row in query.dicts()}
    return [
        {**found[kind, record_id], "rank": rank}
        for rank, kind, record_id in hits
        if (kind, record_id) in found
    ]


def _with_slugs(
    query: pw.ModelSelect, types: list[str], type_column: pw.Node, id_column: pw.Node
) -> pw.ModelSelect:
    """`query` with the public id (`slug`) of each hit: one outer join per record type, each
    matching only its own hits."""
    models = [named(t).model for t in types]
    slugs = [model.slug for model in models]
    query = query.select_extend(
        (pw.fn.COALESCE(*slugs) if len(slugs) > 1 else slugs[0]).alias("slug")
    )
    for record_type, model in zip(types, models, strict=True):
        query = query.join_from(
            SearchDocument,
            model,
            pw.JOIN.LEFT_OUTER,
            on=(type_column == record_type) & (model.id == id_column),
        )
    return query
