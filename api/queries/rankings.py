"""Full-text rankings kept per data version: every match of one query, in rank
order, so that its later pages and its repeats are a slice instead of ranking every match
again.

On PostgreSQL, ranking a common word reads every match's row (GIN keeps no positions), the
same cost whatever the page. Reading the hits into the worker as well adds about a tenth, and
from then on, until the next write, each page of that query is a slice of what is kept.
SQLite ranks from its FTS5 index without the rows and keeps nothing: reading every hit would
cost more than ranking again
(fulltext.keeps_rankings). A hit takes 17 bytes; a ranking of more than KEEP_AT_MOST hits is
never kept.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from api.queries import fulltext
from api.store import data_version

KEEP_AT_MOST = 1_000_000  # hits of one ranking (17 MB)
_KEPT_BYTES = 24 * 2**20  # of every ranking a worker keeps (a worker's RSS goal: 150 MB)

Hit = tuple[float, str, int]  # (rank, record type, record id): lower rank first


@dataclass(frozen=True)
class Ranking:
    """Every hit of one query, ordered by (rank, record type, record id)."""

    ranks: array  # 'd'
    types: tuple[str, ...]  # sorted, so that the codes order as the names do
    codes: bytes  # types[codes[i]] is hit i's record type
    ids: array  # 'q'

    def __len__(self) -> int:
        return len(self.ids)

    def hit(self, index: int) -> Hit:
        return self.ranks[index], self.types[self.codes[index]], self.ids[index]

    def window(self, after: Hit | None, direction: str, count: int) -> list[Hit]:
        """Up to `count` hits after `after` (`direction` "next") or before it ("prev"), the
        nearest first: what paging.keyset fetches (from the first hit when `after` is None)."""
        if after is None:
            return [self.hit(i) for i in range(min(count, len(self)))]
        if direction == "prev":
            end = bisect.bisect_left(range(len(self)), after, key=self.hit)
            return [self.hit(i) for i in range(end - 1, max(end - count, 0) - 1, -1)]
        start = bisect.bisect_right(range(len(self)), after, key=self.hit)
        return [self.hit(i) for i in range(start, min(start + count, len(self)))]

    @property
    def size(self) -> int:
        """Bytes held (what the kept rankings weigh)."""
        return len(self) * (self.ranks.itemsize + self.ids.itemsize + 1) + 256


def _ranking_of(hits: Iterable[Hit]) -> Ranking | None:
    """The Ranking of `hits`, given in order; None beyond KEEP_AT_MOST of them."""
    ranks, ids, codes = array("d"), array("q"), bytearray()
    names: list[str] = []
    for rank, record_type, record_id in hits:
        if len(ids) == KEEP_AT_MOST:
            return None
        if record_type not in names:
            names.append(record_type)
        ranks.append(rank)
        ids.append(record_id)
        codes.append(names.index(record_type))
    types = tuple(sorted(names))
    recode = bytes(types.index(name) for name in names)
    return Ranking(ranks, types, bytes(codes).translate(recode.ljust(256, b"\0")), ids)


_kept = data_version.PerVersion(
    maxsize=_KEPT_BYTES, getsizeof=lambda found: found.size if found is not None else 64
)


def kept(key: Hashable, read_hits: Callable[[int], Iterable[Hit]]) -> Ranking | None:
    """The ranking of the query `key` names: read whole the first time in a data version
    (`read_hits(at_most)`: its first `at_most` hits, in order) and kept until the next. None
    where rankings are not kept (fulltext.keeps_rankings), without a data version, or for a
    ranking too large to keep: the caller ranks it with a LIMIT."""
    if not fulltext.keeps_rankings():
        return None
    version, found = _kept.lookup(key)
    if version is None:
        return None  # nothing is remembered: ranked each time
    if found is data_version.PerVersion.MISSING:
        found = _ranking_of(read_hits(KEEP_AT_MOST + 1))
        _kept.store(version, key, found)
    return found
