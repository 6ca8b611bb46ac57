"""Full-text matching: FTS5 on SQLite, tsvector + GIN on PostgreSQL, over `search_document`
(the index itself is built by api/store/ddl.py).

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
from collections.abc import Iterator

import peewee as pw

from api.queries.errors import InvalidParameter
from api.queries.filters import unindexed
from api.queries.paging import count_rows, estimate_rows
from api.records import SEARCHABLE, named
from api.store.db import database, is_postgres
from api.store.ddl import FTS_ID_BITS, TS_CONFIG
from api.store.models import SearchDocument

_TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 16
_MIN_PREFIX = 2  # a one-character word matches whole words only: as a prefix it reads the
# posting lists of every word with that initial (seconds on a large corpus)


def tokens(text: str) -> list[str]:
    """The distinct word tokens of a user query, lower-cased, in order; InvalidParameter
    naming `q` beyond MAX_TERMS words."""
    words = _TOKEN.findall(text)
    if len(words) > MAX_TERMS:
        raise InvalidParameter("q", f"At most {MAX_TERMS} words in q; this query has {len(words)}.")
    return list(dict.fromkeys(word.lower() for word in words))


def _rowid_range(record_type: str) -> tuple[int, int]:
    """SQLite: the first and last FTS5 rowid of `record_type`'s documents (api/store/ddl.py)."""
    code = named(record_type).search_code
    assert code is not None, f"{record_type} records are not searchable"
    return code << FTS_ID_BITS, ((code + 1) << FTS_ID_BITS) - 1


def _fts_query(words: list[str]) -> str:
    """SQLite: the FTS5 query of `words`: each a quoted prefix (a one-character word whole)."""
    # \w+ tokens hold no quote
    return " ".join(f'"{word}"' + ("*" if len(word) >= _MIN_PREFIX else "") for word in words)


def _ts_query(words: list[str]) -> str:
    """PostgreSQL: the tsquery text of `words`, every word a prefix (one character: whole)."""
    return " & ".join(word + (":*" if len(word) >= _MIN_PREFIX else "") for word in words)


def search_fts() -> pw.Table:
    """SQLite: the FTS5 table, under its own name (MATCH and bm25() name it)."""
    return pw.Table("search_fts", _database=database).alias("search_fts")


_NOTHING = pw.SQL("1 = 0")
_BM25 = pw.SQL("bm25(search_fts, 10.0, 1.0)")  # a title hit weighs ten body hits


def matches(record_type: str, text: str) -> pw.Select:
    """A query of (record_id, rank) for records of `record_type` matching `text`.

    Lower rank is better on both backends. SQLite reads the FTS5 index alone: its rowid
    range is the type, the rowid gives the record's id.
    """
    if is_postgres():
        return _tsv_matches(SearchDocument.record_type == record_type, text)
    words = tokens(text)
    fts = search_fts()
    low, high = _rowid_range(record_type)
    query = fts.select((fts.c.rowid - low).alias("record_id"), _BM25.alias("rank"))
    if not words:
        return query.where(_NOTHING)
    return query.where(
        pw.SQL("search_fts MATCH ?", [_fts_query(words)]) & fts.c.rowid.between(low, high)
    )


def ranked(record_type: str, text: str) -> pw.Select:
    """`matches`, to be counted and sorted by rank: on PostgreSQL behind `OFFSET 0`, so that
    each match's rank is computed once under the window count and the sort, which then hold
    (id, rank) and not the whole search document (a sort that spilled to disk)."""
    query = matches(record_type, text)
    return query.offset(0) if is_postgres() else query


def matches_any(record_types: list[str], text: str) -> pw.Select:
    """(record_id, rank, record_type) of the records of any of `record_types` matching `text`:
    one read of the index for every type (search across collections)."""
    if is_postgres():
        doc = SearchDocument
        query = _tsv_matches(doc.record_type.in_(record_types), text)
        return query.select_extend(doc.record_type).offset(0)  # see ranked()
    words = tokens(text)
    fts = search_fts()
    code = pw.Expression(fts.c.rowid, ">>", FTS_ID_BITS)
    kind = pw.Case(code, [(named(t).search_code, t) for t in record_types])
    mask = (1 << FTS_ID_BITS) - 1
    query = fts.select(
        fts.c.rowid.bin_and(mask).alias("record_id"), _BM25.alias("rank"), kind.alias("record_type")
    )
    if not words:
        return query.where(_NOTHING)
    query = query.where(pw.SQL("search_fts MATCH ?", [_fts_query(words)]))
    if set(record_types) != {t.name for t in SEARCHABLE}:
        query = query.where(code.in_([named(t).search_code for t in record_types]))
    return query


def in_rank_order(
    record_types: list[str], text: str, at_most: int
) -> Iterator[tuple[float, str, int]]:
    """(rank, record_type, record_id) of the first `at_most` records of `record_types`
    matching `text`, in the order of relevance pages (a ranking to keep:
    api/queries/rankings.py)."""
    if len(record_types) == 1:
        hits = ranked(record_types[0], text).alias("hits")
        order: tuple[pw.Node, ...] = (hits.c.rank, hits.c.record_id)
        kind: pw.Node = pw.Value(record_types[0])
    else:
        hits = matches_any(record_types, text).alias("hits")
        order = (hits.c.rank, hits.c.record_type, hits.c.record_id)
        kind = hits.c.record_type
    query = pw.Select([hits], [hits.c.rank, kind, hits.c.record_id]).order_by(*order)
    query = query.limit(at_most)
    rows = query.bind(database).tuples().iterator()
    return ((float(rank), kind, record_id) for rank, kind, record_id in rows)


def _tsv_matches(which: pw.Expression, text: str) -> pw.SelectQuery:
    """PostgreSQL: (record_id, rank) of the search documents `which` selects that match."""
    words = tokens(text)
    doc = SearchDocument
    if not words:
        return doc.select(doc.record_id, pw.Value(0.0).alias("rank")).where(_NOTHING)
    tsquery = _ts_query(words)
    query = pw.fn.to_tsquery(TS_CONFIG, tsquery)
    rank = pw.fn.ts_rank_cd(pw.SQL("tsv"), query) * -1  # lower is better, as bm25
    return doc.select(doc.record_id, rank.alias("rank")).where(
        which & pw.SQL("tsv @@ to_tsquery(%s, %s)", [TS_CONFIG, tsquery])
    )


def window_counts() -> bool:
    """Whether page 1 of a ranked list counts its matches in the ranking query itself
    (`COUNT(*) OVER ()`, PostgreSQL: ranking read every match's row already, the window adds
    little) or apart (SQLite: the window stores every ranked match and reads them back, +43%
    instructions at 71k matches, where counting them from the index alone adds 12% the first
    time and nothing after, see count_matches)."""
    return is_postgres()


def keeps_rankings() -> bool:
    """Whether a query's ranking is kept for its later pages and repeats
    (api/queries/rankings.py): on PostgreSQL, which reads every match's row to rank it, where
    reading the hits as well adds about a tenth; not on SQLite, which ranks from the FTS5
    index alone, where reading every hit costs several times the ranking."""
    return is_postgres()


def unranked(record_types: list[str], text: str) -> pw.Select:
    """One row per record of `record_types` matching `text`, no rank: to count."""
    if len(record_types) == 1:
        return matching_ids(record_types[0], text)
    return matches_any(record_types, text).select(pw.SQL("1")).offset(None)


def count_matches(record_types: list[str], text: str) -> int:
    """How many records of `record_types` match `text`: exact, remembered per data version
    (paging.count_rows)."""
    return count_rows(unranked(record_types, text))


def estimate_matches(record_type: str, text: str, floor: int) -> int:
    """How many records of `record_type` match `text`, at least `floor`, cheaply: on SQLite
    counted from the FTS5 index alone (remembered per data version, a few ms at 71k matches);
    on PostgreSQL the planner's estimate of the match (counting reads every match's row)."""
    if is_postgres():
        return estimate_rows(matching_ids(record_type, text), floor)
    return max(count_matches([record_type], text), floor)


def total_column(record_types: list[str], text: str) -> pw.Node:
    """The number of records of `record_types` matching `text`, as a column of the query
    that ranks them: a window (PostgreSQL) or a count of the index alone, an uncorrelated
    subquery SQLite runs once (see window_counts)."""
    if window_counts():
        return pw.fn.COUNT(pw.SQL("*")).over()
    return unranked(record_types, text).select(pw.fn.COUNT(pw.SQL("*")))


def matching_ids(record_type: str, text: str) -> pw.Select:
    """Internal ids of the records of one type that match `text` (a subquery, unranked)."""
    if is_postgres():
        return _tsv_matches(SearchDocument.record_type == record_type, text).select(
            SearchDocument.record_id
        )
    return matches(record_type, text).select(pw.SQL("rowid - ?", [_rowid_range(record_type)[0]]))


# A sort other than relevance: above this many matches of the word (in a type's index) the
# page walks the sort's index and tests each row (about `rows / matches` tests per row of the
# page); below it, the matches are read and sorted. A test is cheap on SQLite (a lookup in the
# list of matching ids, read once) and dearer on PostgreSQL (a document's tsvector).
WALK_ABOVE = {"sqlite": 2_000, "postgresql": 10_000}


def walk_or_read(id_column: pw.Field, record_type: str, text: str) -> pw.Expression:
    """The condition `id_column` is the id of a record of `record_type` matching `text`, in
    the form that lets a page stop early. A common word: SQLite hides the ids
    from the index of `id_column` (`+id IN (...)`) and PostgreSQL probes each row's document
    (a correlated subquery), so the sort's index is walked; a rare word: `id IN (...)`, the
    matches are read and sorted."""
    ids = matching_ids(record_type, text)
    limit = WALK_ABOVE["postgresql" if is_postgres() else "sqlite"]
    if count_rows(ids, limit + 1) <= limit:
        return id_column.in_(ids)
    if not is_postgres():
        return unindexed(id_column).in_(ids)
    doc = SearchDocument.alias("probed")
    tsquery = _ts_query(tokens(text))
    probe = doc.select(pw.SQL("tsv @@ to_tsquery(%s, %s)", [TS_CONFIG, tsquery])).where(
        (doc.record_type == record_type) & (doc.record_id == id_column)
    )
    return pw.NodeList((probe,))  # an expression (`query & x` would be an INTERSECT)
