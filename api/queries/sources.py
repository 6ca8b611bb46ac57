"""`source` records: the briefing documents, with what was extracted from each."""

from __future__ import annotations

from collections import defaultdict

import peewee as pw

from api.queries.collection import Collection
from api.queries.filters import any_of
from api.queries.loading import versioned
from api.queries.paging import sorts_for
from api.records import WRITABLE
from api.store import data_version
from api.store.models import Citation, Source

EXTRACTED = ("actor", "relation", "location", "event", "statement")  # what a source yields


# A source's counts read every citation it makes (millions for a source of a large corpus)
# and change only with the data.
_counts = data_version.PerVersion(maxsize=1024)


def extracted_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    """{source id: {record_type: records it cites}} for many sources in one grouped query,
    remembered per data version."""
    return _counts.get(tuple(ids), lambda: _count_extracted(ids))


def _count_extracted(ids: list[int]) -> dict[int, dict[str, int]]:
    """`extracted_counts`, counted now."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if ids:
        query = (
            Citation.select(
                Citation.source, Citation.record_type, pw.fn.COUNT(Citation.record_id.distinct())
            )
            .where(Citation.source.in_(ids))
            .group_by(Citation.source, Citation.record_type)
        )
        for source_id, record_type, count in query.tuples():
            counts[source_id][record_type] = count
    return counts


def _load_sources(sources: list[Source]) -> list[dict]:
    """Source records, each with how many records of every collection it supports."""
    counts = extracted_counts([source.id for source in sources])
    return [
        {
            "id": source.slug,
            "title": source.title,
            "publisher": source.publisher,
            "published": source.published,
            "published_precision": source.published_precision,
            "url": source.url,
            "author": source.author,
            "language": source.language,
            **versioned(source),
            "counts": {
                kind.collection: counts.get(source.id, {}).get(kind.name, 0) for kind in WRITABLE
            },
            "links": {kind.collection: f"{kind.path}?source={source.slug}" for kind in WRITABLE},
        }
        for source in sources
    ]


SOURCES = Collection(
    name="source",
    model=Source,
    sorts=sorts_for({"published": Source.published, "title": Source.title}),
    default_sort="-published",
    filters={
        "publisher": any_of(Source.publisher),
    },
    load=_load_sources,
)
