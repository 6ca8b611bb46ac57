"""The rows of a synthetic corpus as one lazy stream of `(table, row)` pairs: no database.

Rows are plain tuples in the column order of `COLUMNS[table]`; a reference to another record
is its slug (a citation or search document names its record by `record_type` and slug), and
the writer turns slugs into ids. Rows of one table come in the order they are inserted, and
every row a row refers to comes before it. The stream draws from one seeded RNG in a fixed
order, so it is consumed once, front to back. Each event and statement comes with its
citations and search document (places and actors draw theirs after all of them). What it
keeps: the places
and actors, and the event titles and dates (statements link to events) packed in a few bytes
each; rows themselves are not kept, so memory does not grow with the corpus beyond that.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from collections.abc import Generator, Iterator, Sequence
from typing import Any, TypeVar

from api.store.models import relation_slug
from api.synthetic.draws import EventDraw, Row, StatementDraw
from api.synthetic.world import DEFAULT_SEED, PREFIX, World

Stream = Iterator[tuple[str, Row]]
T = TypeVar("T")
Phase = Generator[tuple[str, Row], None, T]  # a part of the stream that returns what it made

# every table the corpus fills, in the order the load reports them
COLUMNS: dict[str, tuple[str, ...]] = {
    "source": (
        "slug",
        "title",
        "publisher",
        "published",
        "published_precision",
        "url",
        "author",
        "language",
    ),
    "location": (
        "slug",
        "name",
        "kind",
        "parent",
        "path",
        "latitude",
        "longitude",
        "coordinate_precision",
        "country",
        "description",
    ),
    "location_alias": ("location", "name", "language"),
    "actor": ("slug", "name", "kind", "title", "description", "country"),
    "actor_alias": ("actor", "name", "language"),
    "relation": ("slug", "subject", "predicate", "object", "date_precision"),
    "event": (
        "slug",
        "title",
        "summary",
        "type",
        "sub_type",
        "date",
        "end_date",
        "date_precision",
        "range_start",
        "range_end",
        "location",
        "fatalities",
    ),
    "event_participant": ("event", "actor", "role"),
    "statement": (
        "slug",
        "text",
        "verbatim",
        "summary",
        "channel",
        "outlet",
        "signatory_count",
        "date",
        "end_date",
        "date_precision",
        "range_start",
        "range_end",
        "anonymous",
        "attribution",
    ),
    "statement_speaker": ("statement", "actor", "position"),
    "statement_addressee": ("statement", "actor"),
    "statement_mention": ("statement", "actor"),
    "statement_event": ("statement", "event"),
    "citation": ("record_type", "record_id", "source", "excerpt", "position"),
    "search_document": ("record_type", "record_id", "title", "body"),
}


def corpus(events: int, random_seed: int = DEFAULT_SEED) -> Stream:
    """Every row of the corpus of `events` events made from `random_seed`."""
    world = World(events, random_seed)
    phases = Corpus(world)
    yield from phases.sources()
    places = yield from phases.locations()
    actors = yield from phases.actors()
    titles, dates = yield from phases.events(actors, places)
    yield from phases.statements(actors, titles, dates)


def document(record_type: str, slug: str, title: str, *body: Any) -> tuple[str, Row]:
    """The search document of a record: its title and the non-empty parts of its body."""
    return "search_document", (
        record_type,
        slug,
        title,
        "\n".join(str(part) for part in body if part),
    )


def location_row(place: dict, path: str) -> Row:
    """A place of `World.locations` as a location row (its parent by slug)."""
    parent = place["parent"]
    return (
        place["slug"],
        place["name"],
        place["kind"],
        parent["slug"] if parent else None,
        path,
        place["lat"],
        place["lon"],
        place["precision"],
        place["country"],
        place["description"],
    )


def event_slug(index: int) -> str:
    """The slug of the event at 0-based `index`."""
    return f"{PREFIX}event-{index + 1:07d}"


class Corpus:
    """The phases of the stream; each draws from the world's RNG in the order it always has."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rng: random.Random = world.rng
        self.plan = world.plan
        self.source_slugs = [row[0] for row in world.source_rows()]

    def cite(self, record_type: str, slug: str, excerpt: str, extra: bool = False) -> Stream:
        """One citation of the record, two when `extra`, over distinct sources."""
        source = self.rng.choice(self.source_slugs)
        yield "citation", (record_type, slug, source, excerpt, 0)
        if extra:
            others = [s for s in self.source_slugs if s != source]
            if others:
                yield "citation", (record_type, slug, self.rng.choice(others), excerpt, 1)

    def sources(self) -> Stream:
        for row in self.world.source_rows():
            yield "source", row
        for row in self.world.source_rows():
            yield document("source", row[0], row[1], row[2], row[6])

    def locations(self) -> Phase[list[dict]]:
        """Locations level by level (parents first), then aliases; returns every place."""
        levels = self.world.locations()
        paths: dict[str, str] = {}
        for level in levels:
            for place in level:
                parent = place["parent"]
                path = f"{paths[parent['slug']] if parent else '/'}{place['slug']}/"
                paths[place["slug"]] = path
                yield "location", location_row(place, path)
        places = [p for level in levels for p in level]
        for place in places:
            aliases = []
            if place["kind"] in ("city", "province") and self.rng.random() < 0.2:
                aliases = [place["name"].replace("Al-", "Al ").replace("Ain ", "Ayn ")]
                aliases = [a for a in aliases if a != place["name"]]
                for alias in aliases:
                    yield "location_alias", (place["slug"], alias, "en")
            slug, name, description = place["slug"], place["name"], place["description"]
            yield from self.cite("location", slug, f"{name}: {description}")
            yield document("location", slug, name, *aliases, description)
        return places

    def actors(self) -> Phase[list[dict]]:
        """Actors, their aliases and relations; returns every actor."""
        actors = self.world.actors()
        for a in actors:
            yield "actor", tuple(a[column] for column in COLUMNS["actor"])
        for actor in actors:
            slug, name, description = actor["slug"], actor["name"], actor["description"]
            aliases = actor.get("aliases", [])
            for alias in aliases:
                yield "actor_alias", (slug, alias, "en")
            excerpt = f"{name}, {description[0].lower()}{description[1:]}"
            yield from self.cite("actor", slug, excerpt)
            yield document("actor", slug, name, *aliases, actor["title"], description)
        relations = self.world.relations(actors)
        for s, p, o in relations:
            yield "relation", (relation_slug(s, p, o), s, p, o, "year")
        names = {a["slug"]: a["name"] for a in actors}
        for s, p, o in relations:
            excerpt = f"{names[s]} {p.replace('_', ' ')} {names[o]}."
            yield from self.cite("relation", relation_slug(s, p, o), excerpt)
        return actors

    def events(self, actors: list[dict], places: list[dict]) -> Phase[tuple[Texts, Days]]:
        """Each event, its participants, citations and search document; returns the titles
        and dates of every event (statements refer to them), packed."""
        draw = EventDraw(self.world, actors, places)
        titles, dates = Texts(), Days()
        for index in range(self.plan.events):
            slug = event_slug(index)
            row, links = draw.event(slug)
            yield "event", row
            for actor, role in links:
                yield "event_participant", (slug, actor, role)
            title, summary = row[1], row[2]
            titles.append(title)
            dates.append(row[5])
            excerpt = summary.split(". ")[0] + "."
            yield from self.cite("event", slug, excerpt, extra=self.rng.random() < 0.1)
            yield document("event", slug, title, summary)
        return titles, dates

    def statements(self, actors: list[dict], titles: Texts, dates: Days) -> Stream:
        """Each statement, whom it links, its citations and search document."""
        draw = StatementDraw(self.world, actors, titles, dates)
        for n in range(1, self.plan.statements + 1):
            slug = f"{PREFIX}statement-{n:07d}"
            row, speakers, addressees, mentions, linked = draw.statement(slug)
            yield "statement", row
            for position, actor in enumerate(speakers):
                yield "statement_speaker", (slug, actor, position)
            for actor in addressees:
                yield "statement_addressee", (slug, actor)
            for actor in mentions:
                yield "statement_mention", (slug, actor)
            for index in linked:
                yield "statement_event", (slug, event_slug(index))
            text, summary, attribution = row[1], row[3], row[13]
            yield from self.cite("statement", slug, text, extra=self.rng.random() < 0.1)
            yield document("statement", slug, text[:200], text, summary, attribution)


class Texts(Sequence[str]):
    """Strings packed in one buffer (UTF-8, with offsets): a million titles in tens of MB."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("Q")

    def append(self, text: str) -> None:
        self.data += text.encode()
        self.ends.append(len(self.data))

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, index):
        start = self.ends[index - 1] if index > 0 else 0
        return self.data[start : self.ends[index]].decode()


class Days(Sequence[dt.date]):
    """Dates packed as ordinals."""

    def __init__(self) -> None:
        self.ordinals = array("l")

    def append(self, day: dt.date) -> None:
        self.ordinals.append(day.toordinal())

    def __len__(self) -> int:
        return len(self.ordinals)

    def __getitem__(self, index):
        return dt.date.fromordinal(self.ordinals[index])
