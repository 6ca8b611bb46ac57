"""Reconciliation: which of our actors or places is the one a client names.

Names and aliases are compared in two forms, each scored with rapidfuzz (0-100):

- folded: transliterated to ASCII by anyascii (Arabic, Persian, Cyrillic, accents), lower
  case, punctuation and the article `al`/`el`/`the` dropped, words sorted (word order is free);
- skeleton: the folded form's consonants, spelling variants merged (`q`/`k`/`gh`, `kh`/`h`,
  `sh`/`s`, doubled letters once), vowels and `w`/`y` dropped: `Kataib`, `Kata'ib`, `Kataeb`
  and كتائب are all `ktb`; `Hezbollah`, `Hizballah`, `Hizbullah` and حزب الله are `hzblh`.
  Skeletons of short names collide easily (`Iran` and `Oran`), so they weigh less.

A record scores the best of its names. A candidate is a `match` only when it scores at least
MATCH_SCORE and no other record comes within MATCH_MARGIN of it, or when it alone holds an
identifier the query gives. The names are read once per data version and worker.
"""

from __future__ import annotations

import heapq
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, process

from api.store import data_version
from api.store.db import database
from api.store.models import (
    Actor,
    ActorAlias,
    ActorIdentifier,
    Location,
    LocationAlias,
    LocationIdentifier,
)
from schemas import vocabularies as vocab

MATCH_SCORE = 90.0
MATCH_MARGIN = 8.0
_CANDIDATES = 40  # per form and query, before records are merged
_BLOCK = 5_000  # names scored per query at most: those sharing the most blocking keys
_ARTICLES = frozenset({"al", "el", "ul", "the", "le", "la"})
_SKELETON_STEPS = (
    ("kh", "h"),
    ("gh", "k"),
    ("sh", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "f"),
    ("q", "k"),
    ("c", "k"),
    ("x", "ks"),
)
_NOT_LETTERS = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouwy]")


def _words(name: str) -> list[str]:
    """A name's words in ASCII, lower case, without punctuation inside a word or articles."""
    text = anyascii(name).lower().replace("'", "").replace("`", "").replace("\u2019", "")
    return [w for w in _NOT_LETTERS.split(text) if w and w not in _ARTICLES]


@lru_cache(maxsize=100_000)
def _word_skeleton(word: str) -> str:
    """A word's consonants, variants merged, doubled letters once (`hezbollah` -> `hzblh`)."""
    for old, new in _SKELETON_STEPS:
        word = word.replace(old, new)
    return _once(_VOWELS.sub("", word))


def _once(text: str) -> str:
    """Each run of one letter as one letter."""
    return "".join(letter for letter, _ in groupby(text))


def fold(name: str) -> str:
    """`Kata'ib Hizballah` -> `hizballah kataib`: ASCII, lower case, no punctuation inside a
    word, no articles, words sorted."""
    return " ".join(sorted(_words(name)))


def skeleton(name: str) -> str:
    """The consonants of a name's folded words, in order, variants merged (module doc)."""
    return analysed(name)[1]


@lru_cache(maxsize=200_000)
def analysed(name: str) -> tuple[str, str, frozenset[str]]:
    """A name's folded form, skeleton and blocking keys (names repeat: each is analysed
    once per worker)."""
    words = _words(name)
    shapes = [_word_skeleton(w) for w in words]
    keys = frozenset(shape[:3] for shape in shapes if shape)
    return " ".join(sorted(words)), _once("".join(shapes)), keys


def _skeleton_weight(shape: str) -> float:
    return 0.95 if len(shape) >= 5 else 0.75


@dataclass
class _Index:
    """The distinct names of the records of one type (or kind), in both forms, each with the
    records that bear it, and the names under each blocking key."""

    folded: list[str] = field(default_factory=list)
    skeletons: list[str] = field(default_factory=list)
    owners: list[list[int]] = field(default_factory=list)  # records (index in `records`)
    postings: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _at: dict[str, int] = field(default_factory=dict)

    def add(self, name: tuple[str, str, frozenset[str]], record: int) -> None:
        folded, shape, keys = name
        at = self._at.get(folded)
        if at is None:
            at = self._at[folded] = len(self.folded)
            self.folded.append(folded)
            self.skeletons.append(shape)
            self.owners.append([])
            for key in keys:
                self.postings[key].add(at)
        self.owners[at].append(record)

    def candidates(self, words: list[str], shape: str) -> list[int]:
        """The names sharing every blocking key with `words`, then those sharing all but one
        (at most _BLOCK, the nearest in length to `shape` first when there are more); a key
        shorter than three letters (`rk` of Iraq, a prefix being typed) takes every key it
        begins."""
        groups: list[set[int]] = []
        for key in analysed(" ".join(words))[2]:
            keys = [key] if len(key) == 3 else [k for k in self.postings if k.startswith(key)]
            found: set[int] = set().union(*(self.postings[k] for k in keys if k in self.postings))
            if found:
                groups.append(found)
        if not groups:
            return []
        groups.sort(key=len)
        chosen = set.intersection(*groups)
        for left_out in range(len(groups)) if len(chosen) < _BLOCK and len(groups) > 1 else ():
            chosen |= set.intersection(*(groups[:left_out] + groups[left_out + 1 :]))
            if len(chosen) >= _BLOCK:
                break
        if len(chosen) <= _BLOCK:
            return list(chosen)
        size = len(shape)
        return heapq.nsmallest(_BLOCK, chosen, key=lambda e: abs(len(self.skeletons[e]) - size))


@dataclass(frozen=True)
class Candidate:
    """One record a query may mean."""

    record_type: str
    id: str
    name: str
    kind: str
    country: str | None
    description: str | None
    score: float
    match: bool = False


@dataclass
class _Names:
    """Every record of one type, and an index of their names for every kind and for all."""

    record_type: str
    records: list[tuple[int, str, str, str, str | None, str | None]]  # id, slug, name, kind, ..
    indexes: dict[str | None, _Index]
    position: dict[str, int]  # a record's place in `records`, by public id


_TYPES = {
    "actor": (Actor, ActorAlias, ActorAlias.actor),
    "location": (Location, LocationAlias, LocationAlias.location),
}
_IDENTIFIERS = {
    "actor": (ActorIdentifier, ActorIdentifier.actor),
    "location": (LocationIdentifier, LocationIdentifier.location),
}


def _read_names(record_type: str) -> _Names:
    model, aliases, owner = _TYPES[record_type]
    query = model.select(
        model.id, model.slug, model.name, model.kind, model.country, model.description
    ).order_by(model.id)
    # plain cursors: the values are text and ids as the driver gives them
    records = [tuple(row) for row in database.execute_sql(*query.sql())]
    place = {row[0]: n for n, row in enumerate(records)}
    names: list[tuple[int, str]] = [(n, row[2]) for n, row in enumerate(records)]
    alias_rows = database.execute_sql(*aliases.select(owner, aliases.name).sql())
    names += [(place[record_id], alias) for record_id, alias in alias_rows if record_id in place]
    indexes: dict[str | None, _Index] = defaultdict(_Index)
    for n, name in names:
        form = analysed(name)
        indexes[None].add(form, n)
        indexes[records[n][3]].add(form, n)
    position = {row[1]: n for n, row in enumerate(records)}
    return _Names(record_type, records, dict(indexes), position)


_names = data_version.PerVersion(maxsize=4)


def names_of(record_type: str) -> _Names:
    """The names of every `actor` or `location` (read once per data version and worker)."""
    return _names.get(("reconcile", record_type), lambda: _read_names(record_type))


@dataclass(frozen=True)
class Query:
    """One reconciliation query: a name, the record types (and kinds) it may be, a country
    and identifiers it must agree with, and how many candidates to return."""

    text: str
    types: tuple[tuple[str, str | None], ...]  # (record type, kind or None for any)
    limit: int = 5
    country: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    partial: bool = False  # a prefix typed so far (suggest): names that contain it score high


def _scores(text: str, index: _Index, scorer: Any = fuzz.ratio) -> dict[int, float]:
    """{name (entry of `index`): its best score in either form} for the names that come
    close."""
    best: dict[int, float] = {}
    words = _words(text)
    folded = " ".join(sorted(words))
    shape = analysed(text)[1]
    entries = index.candidates(words, shape)
    weight = _skeleton_weight(shape)
    for probe, form, factor in ((folded, index.folded, 1.0), (shape, index.skeletons, weight)):
        if not probe:
            continue
        choices = [form[entry] for entry in entries]
        found = process.extract(probe, choices, scorer=scorer, limit=_CANDIDATES, score_cutoff=50)
        for _, score, position in found:
            entry, scored = entries[position], score * factor
            if scored > best.get(entry, 0.0):
                best[entry] = scored
    return best


def _holders(record_type: str, identifiers: Sequence[tuple[str, str]]) -> set[str]:
    """The public ids of the records holding any of the identifiers."""
    if not identifiers:
        return set()
    model, owner = _IDENTIFIERS[record_type]
    base = _TYPES[record_type][0]
    found: set[str] = set()
    for scheme, value in identifiers:
        query = (
            base.select(base.slug)
            .join(model, on=(owner == base.id))
            .where((model.scheme == scheme) & (model.value == value))
        )
        found |= {slug for (slug,) in query.tuples()}
    return found


def reconcile(query: Query) -> list[Candidate]:
    """The best candidates for one query, best first; `match` on at most one."""
    ranked: list[tuple[float, str, str, int]] = []  # (score, record type, id, place)
    scorer = fuzz.partial_ratio if query.partial else fuzz.ratio
    schemes = vocab.IDENTIFIER_SCHEMES
    wanted = query.limit + 1  # one more than shown: is the first ahead of the next?
    for record_type, kind in query.types:
        names = names_of(record_type)
        index = names.indexes.get(kind)
        usable = [(s, v) for s, v in query.identifiers if record_type in schemes[s].record_types]
        holders = _holders(record_type, usable)

        required = holders if usable else None  # who holds an identifier the query gives
        for slug in holders:  # a holder of the identifier is a candidate whatever its name
            n = names.position[slug]
            if kind is None or names.records[n][3] == kind:
                ranked.append(_final(query, names, n, 100.0, required))
        if index is None or not query.text.strip():
            continue
        # names best first; a name's records are taken until `wanted` of them score at least
        # what any later name could (a record's final score is at most its name's)
        found: list[tuple[float, str, str, int]] = []
        seen = {names.position[slug] for slug in holders}  # a record once, at its best name
        for entry, score in sorted(_scores(query.text, index, scorer).items(), key=_by_score):
            if len(found) >= wanted and found[wanted - 1][0] >= score:
                break
            fresh = [n for n in dict.fromkeys(index.owners[entry]) if n not in seen]
            seen.update(fresh)
            found += [_final(query, names, n, score, required) for n in fresh]
            found.sort(key=_rank)
        ranked += found
    top = heapq.nsmallest(wanted, ranked, key=_rank)
    candidates = []
    for place, (score, record_type, _, n) in enumerate(top[: query.limit]):
        _, slug, name, kind_of, country, description = names_of(record_type).records[n]
        match = place == 0 and _unambiguous([r[0] for r in top])
        candidates.append(
            Candidate(
                record_type, slug, name, kind_of, country, description, round(score, 1), match
            )
        )
    return candidates


def _final(
    query: Query, names: _Names, n: int, score: float, holders: set[str] | None
) -> tuple[float, str, str, int]:
    """A record's score after the query's properties: lower when it lacks an identifier the
    query gives (`holders`: who has one) or lies in another country."""
    slug, country = names.records[n][1], names.records[n][4]
    if holders is not None and slug not in holders:
        score *= 0.7
    if query.country and country and country != query.country:
        score *= 0.7
    return (score, names.record_type, slug, n)


def _by_score(item: tuple[int, float]) -> float:
    return -item[1]


def _rank(row: tuple[float, str, str, int]) -> tuple[float, str, str]:
    return (-row[0], row[1], row[2])


def _unambiguous(scores: list[float]) -> bool:
    """The best score is high enough and no other comes close."""
    if scores[0] < MATCH_SCORE:
        return False
    return len(scores) == 1 or scores[0] - scores[1] >= MATCH_MARGIN


def suggest(prefix: str, types: Iterable[tuple[str, str | None]], limit: int) -> list[Candidate]:
    """Records whose names start like `prefix` (folded), then the closest others: for a person
    typing in a search box."""
    return reconcile(Query(prefix, tuple(types), limit, partial=True))
