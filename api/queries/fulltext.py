"""Full-text matching: FTS5 on SQLite, tsvector + GIN on PostgreSQL, over `search_document`
(the index itself is built by api/ddl.py).

Any user text is a valid query: it is split into word tokens, each matched as a prefix (a
one-character token as a whole word), all required (AND). Both backends stem English and fold
accents, in the index and in the query alike: `strikes` finds `strike`, `neutralized` finds
`neutralised` (its stem `neutral` is a prefix of `neutralis`), `bamako` finds `Bamakô`. Text
with no word characters matches nothing. Each distinct token costs one index lookup, so a
query has at most MAX_TERMS of them (the argument schemas refuse more with a 422 first;
schemas/grammar.py MAX_QUERY_TERMS documents the same number).
"""

from __future__ import annotations

import re

import peewee as pw

from api.db import is_postgres
from api.ddl import TS_CONFIG
from api.models import SearchDocument
from api.queries.errors import InvalidParameter

TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16
MIN_PREFIX = 2  # a one-character word matches whole words only: as a prefix it reads the
# posting lists of every word with that initial (seconds on a large corpus, issue #13)


def tokens(text: str) -> list[str]:
    """The distinct word tokens of a user query, lower-cased, in order; InvalidParameter
    naming `q` beyond MAX_TERMS words."""
    words = TOKEN.findall(text)
    if len(words) > MAX_TERMS:
        raise InvalidParameter("q", f"At most {MAX_TERMS} words in q; this query has {len(words)}.")
    return list(dict.fromkeys(word.lower() for word in words))


def matches(record_type: str, text: str) -> pw.SelectQuery:
    """A query of (record_id, rank) for records of `record_type` matching `text`.

    Lower rank is better on both backends.
    """
    return matches_of(SearchDocument.record_type == record_type, text)


def matches_any(record_types: list[str], text: str) -> pw.SelectQuery:
    """(record_id, rank, record_type) of the records of any of `record_types` matching `text`:
    one read of the index for every type (search across collections, issue #14)."""
    doc = SearchDocument
    return matches_of(doc.record_type.in_(record_types), text).select_extend(doc.record_type)


def matches_of(which: pw.Expression, text: str) -> pw.SelectQuery:
    """(record_id, rank) of the search documents `which` selects that match `text`."""
    words = tokens(text)
    doc = SearchDocument
    if not words:
        return doc.select(doc.record_id, pw.Value(0.0).alias("rank")).where(pw.SQL("1 = 0"))
    if is_postgres():
        tsquery = " & ".join(word + (":*" if len(word) >= MIN_PREFIX else "") for word in words)
        query = pw.fn.to_tsquery(TS_CONFIG, tsquery)
        rank = pw.fn.ts_rank_cd(pw.SQL("tsv"), query) * -1  # lower is better, as bm25
        return doc.select(doc.record_id, rank.alias("rank")).where(
            which & pw.SQL("tsv @@ to_tsquery(%s, %s)", [TS_CONFIG, tsquery])
        )
    fts = pw.Table("search_fts").alias("search_fts")
    # \w+ tokens hold no quote
    fts_query = " ".join(f'"{word}"' + ("*" if len(word) >= MIN_PREFIX else "") for word in words)
    return (
        doc.select(doc.record_id, pw.SQL("bm25(search_fts, 10.0, 1.0)").alias("rank"))
        .join(fts, on=(fts.c.rowid == doc.id))
        .where(which & pw.SQL("search_fts MATCH ?", [fts_query]))
    )


def matching_ids(record_type: str, text: str) -> pw.Select:
    """Internal ids of the records of one type that match `text` (a subquery)."""
    hits = matches(record_type, text).alias("hits")
    return pw.Select([hits], [hits.c.record_id])
