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

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, process

from api.store import data_version
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
_DOUBLES = re.compile(r"(.)\1+")


def fold(name: str) -> str:
    """`Kata'ib Hizballah` -> `hizballah kataib`: ASCII, lower case, no punctuation inside a
    word, no articles, words sorted."""
    text = anyascii(name).lower().replace("'", "").replace("`", "").replace("\u2019", "")
    words = [w for w in _NOT_LETTERS.split(text) if w and w not in _ARTICLES]
    return " ".join(sorted(words))


def skeleton(name: str) -> str:
    """The consonants of a name's folded words, in order, variants merged (module doc)."""
    text = anyascii(name).lower().replace("'", "").replace("`", "")
    words = [w for w in _NOT_LETTERS.split(text) if w and w not in _ARTICLES]
    text = "".join(words)
    for old, new in _SKELETON_STEPS:
        text = text.replace(old, new)
    return _DOUBLES.sub(r"\1", _VOWELS.sub("", text))


def _skeleton_weight(shape: str) -> float:
    return 0.95 if len(shape) >= 5 else 0.75


@dataclass
class _Form:
    """The distinct names of one form, each with the records that bear it (names repeat: a
    rapidfuzz pass over the distinct ones costs less)."""

    names: list[str] = field(default_factory=list)
    owners: list[list[int]] = field(default_factory=list)  # records (index in `records`)
    _at: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, record: int) -> None:
        at = self._at.get(name)
        if at is None:
            at = self._at[name] = len(self.names)
            self.names.append(name)
            self.owners.append([])
        self.owners[at].append(record)


@dataclass
class _Index:
    """The names of the records of one type (or kind), in both forms."""

    folded: _Form = field(default_factory=_Form)
    skeletons: _Form = field(default_factory=_Form)


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
    records = list(query.tuples())
    position = {row[0]: n for n, row in enumerate(records)}
    names: list[tuple[int, str]] = [(n, row[2]) for n, row in enumerate(records)]
    for record_id, alias in aliases.select(owner, aliases.name).tuples():
        if record_id in position:
            names.append((position[record_id], alias))
    indexes: dict[str | None, _Index] = defaultdict(_Index)
    for n, name in names:
        folded, shape = fold(name), skeleton(name)
        for key in (None, records[n][3]):
            indexes[key].folded.add(folded, n)
            indexes[key].skeletons.add(shape, n)
    return _Names(record_type, records, dict(indexes))


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
    """{record: best score of its names} for the records whose names come close."""
    best: dict[int, float] = {}
    folded, shape = fold(text), skeleton(text)
    weight = _skeleton_weight(shape)
    passes = [(folded, index.folded, 1.0)]
    if shape:
        passes.append((shape, index.skeletons, weight))
    for probe, form, factor in passes:
        if not probe:
            continue
        found = process.extract(
            probe, form.names, scorer=scorer, limit=_CANDIDATES, score_cutoff=50
        )
        for _, score, position in found:
            scored = score * factor
            for record in form.owners[position]:
                if scored > best.get(record, 0.0):
                    best[record] = scored
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
    scored: list[Candidate] = []
    for record_type, kind in query.types:
        names = names_of(record_type)
        index = names.indexes.get(kind)
        scorer = fuzz.partial_ratio if query.partial else fuzz.ratio
        best = _scores(query.text, index, scorer) if index and query.text.strip() else {}
        schemes = vocab.IDENTIFIER_SCHEMES
        usable = [(s, v) for s, v in query.identifiers if record_type in schemes[s].record_types]
        holders = _holders(record_type, usable)
        if holders:  # a record found by identifier is a candidate whatever its name
            for n, row in enumerate(names.records):
                if row[1] in holders and (kind is None or row[3] == kind):
                    best[n] = 100.0
        for n, score in best.items():
            _, slug, name, record_kind, country, description = names.records[n]
            if usable and slug not in holders:
                score *= 0.7  # it lacks the identifier the client has
            if query.country and country and country != query.country:
                score *= 0.7  # another country's
            scored.append(
                Candidate(record_type, slug, name, record_kind, country, description, score)
            )
    scored.sort(key=lambda c: (-c.score, c.record_type, c.id))
    top = scored[: query.limit]
    if top and _unambiguous(scored):
        top[0] = Candidate(**{**top[0].__dict__, "match": True})
    return [Candidate(**{**c.__dict__, "score": round(c.score, 1)}) for c in top]


def _unambiguous(scored: list[Candidate]) -> bool:
    first = scored[0]
    if first.score < MATCH_SCORE:
        return False
    return len(scored) == 1 or first.score - scored[1].score >= MATCH_MARGIN


def suggest(prefix: str, types: Iterable[tuple[str, str | None]], limit: int) -> list[Candidate]:
    """Records whose names start like `prefix` (folded), then the closest others: for a person
    typing in a search box."""
    return reconcile(Query(prefix, tuple(types), limit, partial=True))
