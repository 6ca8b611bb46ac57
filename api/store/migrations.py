"""Schema migrations: a version number in the database (`schema_version`) and one function
per version after it, written with peewee's `playhouse.migrate` (the same operations on
SQLite and PostgreSQL, inside the caller's transaction).

`upgrade()` runs under the write lock of api/store/ddl.py, so several replicas starting at once on
one database create or upgrade it exactly once. Version 1 is the release before versions
existed: its databases have the tables but no `schema_version` table. The releases' snapshots
(api/store/snapshots.py) are migrated after the live database, by the same functions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from api.store import data_version, ddl, months, places, snapshots
from api.store.db import bound_to, database, is_postgres
from api.store.models import (
    DEFAULT_OWNER,
    Actor,
    ActorIdentifier,
    ActorSameAs,
    ApiKey,
    Change,
    ChangeSource,
    Citation,
    DataVersion,
    Delivery,
    Event,
    EventCasualty,
    EventJson,
    Location,
    LocationIdentifier,
    LocationRegion,
    LocationSameAs,
    Relation,
    Release,
    SchemaVersion,
    SharedAnswer,
    Source,
    Statement,
    StatementPrincipal,
    StixAdded,
    StixJson,
    StixStale,
    Subscription,
    sources_of_change,
    utcnow,
)

_LEGACY_VERSION = 1
_log = logging.getLogger(__name__)


def _to_v2(migrator: SchemaMigrator) -> None:
    """v2: sources keep their text (citations are checked against it); citations remember
    the bundle that contributed them; API keys."""
    bundle = pw.ForeignKeyField(Source, null=True, field=Source.id, on_delete="CASCADE")
    migrate(
        migrator.add_column("source", "text", pw.TextField(null=True)),
        migrator.add_column("citation", "bundle_id", bundle),
        migrator.add_index("citation", ("bundle_id", "record_type", "record_id")),
    )
    Citation.update(bundle=Citation.source).execute()
    database.create_tables([ApiKey, SchemaVersion], safe=True)


_VERSIONED_TABLES = ("actor", "relation", "location", "event", "statement")


def _to_v3(migrator: SchemaMigrator) -> None:
    """v3: records carry `version` (1 for every existing one) and `updated_at` (the time of
    the upgrade); the change journal (feed and audit trail).

    Plain `ADD COLUMN ... NOT NULL DEFAULT <constant>` on both backends: playhouse's
    add_column of a NOT NULL column rebuilds the table on SQLite, and dropping the old table
    with foreign keys on would cascade-delete every alias, participant and relation."""
    stamp = utcnow().isoformat(sep=" ")
    timestamp = "TIMESTAMP" if is_postgres() else "DATETIME"
    for table in _VERSIONED_TABLES:
        database.execute_sql(f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
        database.execute_sql(
            f"ALTER TABLE {table} ADD COLUMN updated_at {timestamp} NOT NULL DEFAULT '{stamp}'"
        )
        database.execute_sql(
            f"CREATE INDEX IF NOT EXISTS {table}_updated_at ON {table} (updated_at)"
        )
    database.create_tables([Change], safe=True)


def _to_v4(migrator: SchemaMigrator) -> None:
    """v4 (a data model for any briefing): date kinds (span, window, on or
    before), casualty figures, statements on behalf of actors, places in several regions;
    the full-text index is rebuilt to stem English and fold accents."""
    # One ALTER with a DEFAULT, valid on both backends: playhouse's add_column would add the
    # NOT NULL by rebuilding the table on SQLite, and dropping `event` cascades to its links.
    for table in ("event", "statement"):
        database.execute_sql(
            f"ALTER TABLE {table} ADD COLUMN date_kind VARCHAR(16) NOT NULL DEFAULT 'point'"
        )
    for table in ("event", "statement"):  # an end date meant a span unless said otherwise
        database.execute_sql(f"UPDATE {table} SET date_kind = 'span' WHERE end_date IS NOT NULL")
    database.create_tables([EventCasualty, StatementPrincipal, LocationRegion], safe=True)
    ddl.drop_fulltext()
    ddl.create_objects()
    ddl.rebuild_fulltext()


def _to_v5(migrator: SchemaMigrator) -> None:
    """v5: the data version that response caches key on (api/store/data_version.py);
    `create_objects` adds its row and the trigger on `source`."""
    database.create_tables([DataVersion], safe=True)


def _to_v6(migrator: SchemaMigrator) -> None:
    """v6: events and statements are read in date order through a (date, id,
    range_end, range_start) index (created by `create_objects`); the (date, id) index it
    replaces goes, or the planners keep choosing it."""
    for table in ("event", "statement"):
        database.execute_sql(f"DROP INDEX IF EXISTS {table}_date_id")


def _to_v7(migrator: SchemaMigrator) -> None:
    """v7 (full text at scale): SQLite's FTS5 index becomes contentless and keyed
    by record (type code and record id in its rowid, api/store/ddl.py FTS_TYPE_CODES), so a match
    needs no lookup in `search_document`: dropped, created and filled again from
    `search_document`. PostgreSQL's index is unchanged."""
    if not is_postgres():
        ddl.drop_fulltext()
        ddl.create_objects()
        ddl.rebuild_fulltext()


def _to_v8(migrator: SchemaMigrator) -> None:
    """v8: the one-column `date` index of events and statements goes. The
    (date, id, range_end, range_start) index serves the same order and tests a date filter
    from the index alone; with both, the planners walked the narrower one and read every
    row to test its dates."""
    for table in ("event", "statement"):
        database.execute_sql(f"DROP INDEX IF EXISTS {table}_date")


def _to_v9(migrator: SchemaMigrator) -> None:
    """v9 (relevance at scale): SQLite's FTS5 index keeps no document sizes
    (`columnsize=0`, api/store/ddl.py): the rebuild of v7 again. PostgreSQL's index is unchanged."""
    _to_v7(migrator)


def _to_v10(migrator: SchemaMigrator) -> None:
    """v10: event records kept rendered as JSON (`event_json`, api/queries/rendered.py), every
    one stale until rendered: `briefing db upgrade` renders them after the migration, and a
    reader renders a stale one on the spot meanwhile; `create_objects` adds the triggers that
    keep them fresh."""
    database.create_tables([EventJson], safe=True)
    EventJson.delete().execute()
    EventJson.insert_from(
        Event.select(Event.id, pw.Value(None)), [EventJson.event, EventJson.body]
    ).execute()


def _to_v11(migrator: SchemaMigrator) -> None:
    """v11: sources carry a version and `updated_at` like every record (their changes are
    journaled, their DELETE takes If-Match): every source starts at version 1, updated now."""
    timestamp = "TIMESTAMP" if is_postgres() else "DATETIME"
    columns = {column.name for column in database.get_columns("source")}
    if "version" not in columns:
        database.execute_sql("ALTER TABLE source ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
    if "updated_at" not in columns:
        database.execute_sql(f"ALTER TABLE source ADD COLUMN updated_at {timestamp}")
    Source.update(updated_at=utcnow()).where(Source.updated_at.is_null()).execute()


def _to_v12(migrator: SchemaMigrator) -> None:
    """v12: a citation may name a public record instead of quoting its source (what it is,
    where it can be checked, the fields it supports); every event record is rendered again,
    its citations now saying which they are."""
    present = {column.name for column in database.get_columns("citation")}
    migrate(
        *(
            migrator.add_column("citation", name, pw.TextField(null=True))
            for name in ("public_record", "public_record_where", "supports")
            if name not in present
        )
    )
    EventJson.update(body=None).execute()


def _to_v13(migrator: SchemaMigrator) -> None:
    """v13 (owners): every key and every source belongs to an owner, `default` for those made
    before, so an upgraded deployment behaves as before (README: how to split them); keys
    gain an expiry, a last use, and the previous secret of a rotation with its grace; the
    journal names the owner of the key of each change."""
    timestamp = "TIMESTAMP" if is_postgres() else "DATETIME"
    added = {
        "source": [f"owner VARCHAR(100) NOT NULL DEFAULT '{DEFAULT_OWNER}'"],
        "api_key": [
            f"owner VARCHAR(100) NOT NULL DEFAULT '{DEFAULT_OWNER}'",
            f"expires_at {timestamp}",
            f"last_used_at {timestamp}",
            "previous_hash TEXT",
            f"previous_until {timestamp}",
        ],
        "change": ["owner VARCHAR(100)"],
    }
    for table, columns in added.items():
        present = {column.name for column in database.get_columns(table)}
        for column in columns:
            if column.split()[0] not in present:
                database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {column}')


def _to_v14(migrator: SchemaMigrator) -> None:
    """v14 (push): webhook subscriptions and their outbox (`delivery`), and the sources each
    change concerns (`change_source`, the feed's `source` filter), filled from the journal."""
    database.create_tables([ChangeSource, Subscription, Delivery], safe=True)
    last = 0
    while True:  # in batches: a journal may be long
        batch = list(
            Change.select(Change.id, Change.record_type, Change.record, Change.before, Change.after)
            .where(Change.id > last)
            .order_by(Change.id)
            .limit(5000)
            .tuples()
        )
        if not batch:
            return
        rows = [
            {"change": change_id, "source": source}
            for change_id, record_type, record, before, after in batch
            for source in sorted(
                sources_of_change(
                    record_type,
                    record,
                    json.loads(before) if before else None,
                    json.loads(after) if after else None,
                )
            )
        ]
        if rows:
            ChangeSource.insert_many(rows).on_conflict_ignore().execute()
        last = batch[-1][0]


def _to_v15(migrator: SchemaMigrator) -> None:
    """v15 (identity): external identifiers of actors and places, and the curated same-as
    links between two records of one type."""
    database.create_tables(
        [ActorIdentifier, LocationIdentifier, ActorSameAs, LocationSameAs], safe=True
    )


def _to_v16(migrator: SchemaMigrator) -> None:
    """v16 (stix): records are read in the order they were written, `(updated_at, id)`, by the TAXII
    server's keyset pages."""
    for model in (Actor, Relation, Location, Event, Statement):
        ddl.create_indexes(model)


def _to_v17(migrator: SchemaMigrator) -> None:
    """v17 (releases): releases, named snapshots of the data (api/store/snapshots.py)."""
    database.create_tables([Release], safe=True)


def _to_v18(migrator: SchemaMigrator) -> None:
    """v18 (aggregates at scale): each location keeps its place at each administrative level
    (api/store/places.py), filled from the paths and kinds; events and statements keep the
    months of their spans as numbers (api/store/months.py). On PostgreSQL, `VACUUM ANALYZE
    event, statement` afterwards: every row was rewritten."""
    present = {column.name for column in database.get_columns("location")}
    columns = [field.column_name for field in places.LEVEL_FIELDS.values()]
    migrate(
        *(
            migrator.add_column(  # a field of its own: add_column renames the one it is given
                "location",
                column,
                pw.ForeignKeyField(Location, null=True, field=Location.id, on_delete="SET NULL"),
            )
            for column in columns
            if column not in present
        )
    )
    places.refresh_levels()
    ddl.drop_stale_event_triggers()  # the months change no record: `upgrade` makes them again
    for model in (Event, Statement):
        for column in ("start_month", "end_month"):
            if column not in {c.name for c in database.get_columns(model._meta.table_name)}:
                database.execute_sql(
                    f"ALTER TABLE {model._meta.table_name} ADD COLUMN {column} INTEGER"
                )
        months.fill_months(model)


def _to_v19(migrator: SchemaMigrator) -> None:
    """v19 (STIX kept rendered): each record's STIX object kept as JSON (`stix_json`,
    api/queries/stix_kept.py), every one marked stale (`stix_stale`) until rendered: `briefing
    db upgrade` renders them after the migration, and a reader renders a stale one on the spot
    meanwhile; `create_objects` adds the triggers that keep them fresh."""
    database.create_tables([StixJson, StixStale], safe=True)
    StixJson.delete().execute()
    StixStale.delete().execute()
    for record_type in ("actor", "relation", "location", "event", "statement"):
        database.execute_sql(
            f"INSERT INTO stix_stale (record_type, record_id) SELECT '{record_type}', id "
            f'FROM "{record_type}"'
        )


def _to_v20(migrator: SchemaMigrator) -> None:
    """v20 (aggregates at 1M): each event keeps its location's place at each level
    (`country_place_id` ..., api/store/places.py; -1 for no place), kept by triggers that
    `upgrade` creates with the aggregates' indexes on them; events and statements keep the
    weeks of their spans (`start_week`, `end_week`, api/store/months.py) as they keep its
    months. One UPDATE of each table fills them, the triggers off while it runs."""
    ddl.drop_stale_event_triggers()  # the copies change no record: `upgrade` makes them again
    places.drop_event_place_triggers()
    present = {c.name for c in database.get_columns("event")}
    for field in (
        Event.country_place_id,
        Event.province_place_id,
        Event.district_place_id,
        Event.city_place_id,
    ):
        if field.column_name not in present:
            database.execute_sql(
                f"ALTER TABLE event ADD COLUMN {field.column_name} INTEGER NOT NULL DEFAULT -1"
            )
    places.fill_event_places()
    for model in (Event, Statement):  # and the weeks of their spans, as numbers
        present = {c.name for c in database.get_columns(model._meta.table_name)}
        for column in ("start_week", "end_week"):
            if column not in present:
                database.execute_sql(
                    f"ALTER TABLE {model._meta.table_name} ADD COLUMN {column} INTEGER"
                )
        months.fill_weeks(model)
    # a place's events by week from the index alone: it holds the weeks, and the precision and
    # kind that say why a record is in no one week, too (`upgrade` makes it)
    database.execute_sql("DROP INDEX IF EXISTS event_place_dates_months")


def _to_v21(migrator: SchemaMigrator) -> None:
    """v21 (the explorer at 1M): answers shared by every worker and host, per data version
    (`shared_answer`, api/store/shared_answers.py). A new, empty table: instant at any size."""
    database.create_tables([SharedAnswer], safe=True)


def _to_v22(migrator: SchemaMigrator) -> None:
    """v22 (STIX, fourth round): a changed record is marked once and what copies from it is
    rendered after the write (`settle`); `stix_added` dates the new versions for TAXII's
    `added_after`. The table here; create_objects() swaps the triggers (drops those that marked
    every dependent), as at every start."""
    database.create_tables([StixAdded], safe=True)


# version -> the function that brings the version before it up to it

_MIGRATIONS: dict[int, Callable[[SchemaMigrator], None]] = {
    2: _to_v2,
    3: _to_v3,
    4: _to_v4,
    5: _to_v5,
    6: _to_v6,
    7: _to_v7,
    8: _to_v8,
    9: _to_v9,
    10: _to_v10,
    11: _to_v11,
    12: _to_v12,
    13: _to_v13,
    14: _to_v14,
    15: _to_v15,
    16: _to_v16,
    17: _to_v17,
    18: _to_v18,
    19: _to_v19,
    20: _to_v20,
    21: _to_v21,
    22: _to_v22,
}
assert max(_MIGRATIONS) == ddl.SCHEMA_VERSION, "create_schema() and the migrations disagree"


def current_version() -> int | None:
    """The schema version of the bound database; None when it has no tables yet."""
    tables = ddl.table_names()
    if ddl.is_legacy(tables):
        return _LEGACY_VERSION
    if "schema_version" not in tables:
        return None
    return SchemaVersion.select(pw.fn.MAX(SchemaVersion.version)).scalar()


def upgrade() -> tuple[int | None, int]:
    """Create the schema, or migrate it to the current version; (version before, after). Then
    the snapshots of the releases made at an older version are migrated too (`upgrade_releases`).

    Idempotent and safe to run from many processes at once (one waits for the other).
    """
    done = _migrate(bump=True)
    upgrade_releases()
    return done


def _migrate(bump: bool) -> tuple[int | None, int]:
    """`upgrade` of the bound database; `bump`: a new data version when it was migrated."""
    with database.connection_context(), ddl.exclusive(bump=False):
        before = current_version()
        if before is None:
            ddl.create_objects()
            SchemaVersion.create(version=ddl.SCHEMA_VERSION)
            return None, ddl.SCHEMA_VERSION
        if before > ddl.SCHEMA_VERSION:
            raise ddl.SchemaOutdated(
                f"The database is at schema version {before}, newer than this release's "
                f"{ddl.SCHEMA_VERSION}: upgrade the code, not the database."
            )
        migrator = SchemaMigrator.from_database(database.obj)
        for version in range(before + 1, ddl.SCHEMA_VERSION + 1):
            _MIGRATIONS[version](migrator)
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=version)
        ddl.create_objects()  # indexes and full-text structures a migration may have dropped
        if bump and before < ddl.SCHEMA_VERSION:
            data_version.bump()  # what a response is made of may have changed
        return before, ddl.SCHEMA_VERSION


def _older_releases() -> list[Release]:
    with database.connection_context():
        if Release._meta.table_name not in ddl.table_names():
            return []
        return list(
            Release.select().where(
                Release.deleted_at.is_null() & (Release.schema_version < ddl.SCHEMA_VERSION)
            )
        )


def upgrade_releases() -> list[str]:
    """Migrate the snapshot of every release made at an older schema version, as the live
    database was (one at a time, never while a snapshot is being made); their names.

    A release answers what it answered before: its data version is kept (its ETags and
    cached answers stay valid), and a migration only adds what the code now reads. On SQLite
    the file is changed in place (in one transaction): stop the service first, as `make run`
    does (it upgrades before it serves)."""
    if not _older_releases():
        return []
    with snapshots.making():
        upgraded = []
        for release in _older_releases():  # again: another process may have done them
            try:
                with snapshots.writable(release.storage) as target, bound_to(target):
                    _migrate(bump=False)
            except FileNotFoundError as missing:  # it cannot be served either: say so, go on
                _log.warning("release %r not upgraded: %s", release.name, missing)
                continue
            snapshots.settle(release.storage)
            with database.connection_context(), ddl.exclusive():  # the listing changes
                Release.update(schema_version=ddl.SCHEMA_VERSION).where(
                    Release.id == release.id
                ).execute()
            upgraded.append(release.name)
        return upgraded
