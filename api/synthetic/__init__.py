"""A deterministic synthetic briefing corpus at scale, for load and scale benchmarks.

`briefing seed --synthetic N` builds about N events, 2N statements, N/10 actors and N/20
locations (country -> province -> district/city/base/facility, with coordinates inside the
Middle East), plus relations, citations, three synthetic sources and a search document for every
record, so every filter of the API (location descendants, date ranges with precisions, bbox,
near, full text, actor/role, channel, ...) has realistic work to do.

Every public id starts with `syn-`, so synthetic records never collide with the real briefings
and can be removed again (`remove`). The same `N` and `random_seed` always give the same rows.
Date spans use `api.store.models.date_span` and location paths follow the loader's
`/parent-slug/child-slug/` scheme, so synthetic data is indistinguishable from loaded data.

The package: `names` (word tables and weights), `world` (the seeded places, actors and
relations), `generate` (every row as a lazy stream, no database), `write` (chunked inserts
of that stream, slugs resolved to ids); here, the entry points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from api.queries import stix_kept
from api.queries.events import EVENT_JSON
from api.store.db import database, is_postgres
from api.store.ddl import exclusive
from api.store.models import (
    Actor,
    Citation,
    Event,
    Location,
    Relation,
    SearchDocument,
    Source,
    Statement,
)
from api.store.months import fill_months, fill_weeks
from api.store.places import fill_event_places, refresh_levels
from api.synthetic.bulk import deferred_indexes, fast_sqlite, max_id
from api.synthetic.generate import corpus
from api.synthetic.world import DEFAULT_SEED, GENERATOR_VERSION, PREFIX, CorpusPlan, signature
from api.synthetic.write import WRITTEN_TABLES, CorpusWriter, synthetic

__all__ = [
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "PREFIX",
    "Result",
    "build_and_insert",
    "optimize",
    "present",
    "remove",
    "seed_synthetic",
    "signature",
]


def build_and_insert(events: int, random_seed: int = DEFAULT_SEED, progress: bool = True) -> dict:
    """Generate and write the corpus (call inside a transaction); counts per table.

    The indexes of the tables it fills are built after the rows are in (bulk.deferred_indexes).
    """
    plan = CorpusPlan(events)
    # estimated total rows for the progress bar (the bar ends on the exact count)
    writer = CorpusWriter(int(plan.events * 17 + plan.actors * 3 + plan.locations * 3), progress)
    before = max_id(Event)
    kept_before = {name: max_id(c.model) for name, c in stix_kept.KEPT.items()}
    max_id_before = {model: max_id(model) for model in (Event, Statement)}
    try:
        with deferred_indexes(list(WRITTEN_TABLES.values())):
            counts = writer.write(corpus(events, random_seed))
            for model in (Event, Statement):  # the months of the spans just written
                fill_months(model, model.id > max_id_before[model])
                fill_weeks(model, model.id > max_id_before[model])
            refresh_levels()  # each place's place at each level, from the paths just written
            fill_event_places(f"event.id > {before}")  # and the new events' copies of them
    finally:
        writer.close()
    if is_postgres():  # rendering's plans need statistics of the new rows (without them a
        for model in WRITTEN_TABLES.values():  # batch's queries are planned blind, and slow)
            database.execute_sql(f'ANALYZE "{model._meta.table_name}"')
    EVENT_JSON.fill(after=before)  # rendered once, the triggers off while the rows went in
    stix_kept.fill(after=kept_before)  # and every STIX object
    return counts


def present() -> str | None:
    """The parameters of the synthetic corpus in the database (its first source's url)."""
    source = Source.get_or_none(Source.slug == f"{PREFIX}source-1")
    return source.url if source else None


def remove() -> int:
    """Delete every synthetic record (and its citations and search documents); rows deleted."""
    deleted = 0
    for model, record_type in (
        (Statement, "statement"),
        (Event, "event"),
        (Actor, "actor"),
        (Location, "location"),
        (Source, "source"),
    ):
        ids = model.select(model.id).where(synthetic(model))
        if record_type == "actor":
            relations = Relation.select(Relation.id).where(
                Relation.subject.in_(ids) | Relation.object.in_(ids)
            )
            deleted += (
                Citation.delete()
                .where((Citation.record_type == "relation") & Citation.record_id.in_(relations))
                .execute()
            )
        for child in (Citation, SearchDocument):
            deleted += (
                child.delete()
                .where((child.record_type == record_type) & child.record_id.in_(ids))
                .execute()
            )
        if model is Source:
            deleted += Citation.delete().where(Citation.source.in_(ids)).execute()
        deleted += model.delete().where(synthetic(model)).execute()
    return deleted


def optimize() -> None:
    """Refresh planner statistics after a bulk load (and compact SQLite's FTS index)."""
    if is_postgres():  # every table written: one left out has no statistics until autovacuum
        for table in WRITTEN_TABLES:
            database.execute_sql(f'VACUUM ANALYZE "{table}"')
    else:
        database.execute_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        database.execute_sql("ANALYZE")
        database.execute_sql("PRAGMA optimize")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass
class Result:
    events: int
    random_seed: int
    skipped: bool
    seconds: float
    counts: dict[str, int]
    removed: int = 0

    def describe(self) -> str:
        if self.skipped:
            return (
                f"synthetic corpus (events={self.events}, seed={self.random_seed}) already "
                "present; nothing to do"
            )
        rows = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        removed = f"; removed {self.removed} old synthetic row(s)" if self.removed else ""
        return (
            f"synthetic corpus (events={self.events}, seed={self.random_seed}) loaded in "
            f"{self.seconds:.1f}s: {rows}{removed}"
        )


def seed_synthetic(
    events: int, random_seed: int = DEFAULT_SEED, progress: bool = True, force: bool = False
) -> Result:
    """Load the synthetic corpus unless the same one is already there; replace another one."""
    if events < 1:
        raise ValueError("--synthetic needs a positive number of events")
    started = time.perf_counter()
    with database.connection_context():
        existing = present()
        if existing == signature(events, random_seed) and not force:
            return Result(events, random_seed, True, 0.0, {})
        removed = 0
        with fast_sqlite(), exclusive():
            if existing is not None:
                removed = remove()
            counts = build_and_insert(events, random_seed, progress)
        optimize()
    return Result(events, random_seed, False, time.perf_counter() - started, counts, removed)
