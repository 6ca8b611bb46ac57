"""The schema: tables, extra indexes, the full-text index (FTS5 on SQLite, a generated
tsvector with GIN indexes on PostgreSQL) and the triggers that mark rendered event records
stale, created if missing; `exclusive()`, the one lock that serialises schema changes and
imports across processes and hosts; and `record_write()`, the narrower lock of a record PATCH."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import peewee as pw

from api.store import data_version, places, snapshots
from api.store.db import database, is_postgres
from api.store.models import TABLES, Release, SchemaVersion
from schemas.registry import SEARCHABLE

# The version create_schema() builds; api/store/migrations.py brings older databases up to it.
SCHEMA_VERSION = 22
_SCHEMA_LOCK = 727274  # PostgreSQL advisory lock id: one writer of schema or data at a time
_JOURNAL_LOCK = 727276  # PostgreSQL advisory lock id: one record write's journal tail at a time


class SchemaOutdated(Exception):
    """The database was made by an older release: run `briefing db upgrade`."""


@contextmanager
def exclusive(bump: bool = True) -> Iterator[pw._transaction]:
    """A transaction that holds the database's one write lock until it ends, and bumps the
    data version in it (api/store/data_version.py; `bump=False` for schema changes made before the
    version's table exists).

    PostgreSQL: a transaction-scoped advisory lock (every host agrees on it). SQLite:
    `BEGIN IMMEDIATE` (the write lock is taken at BEGIN, so two writers queue on busy_timeout
    instead of failing with "database is locked" when a read transaction tries to write).
    Inside another transaction this is a savepoint of it (the lock is already held).
    Whatever fails inside rolls the whole transaction back and is raised as it was.
    """
    if is_postgres():
        with database.atomic() as transaction:
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            if bump:
                data_version.bump()
            yield transaction
    else:
        with database.atomic("IMMEDIATE") as transaction:
            try:
                if bump:
                    data_version.bump()
                yield transaction
            except BaseException:
                if database.transaction_depth() == 1 and not database.connection().in_transaction:
                    # SQLite ended the transaction itself (an interrupted or failed write
                    # rolls it back): an empty one lets peewee's rollback run, so that the
                    # error raised is the cause, not "cannot rollback - no transaction".
                    database.execute_sql("BEGIN")
                raise


@contextmanager
def record_write() -> Iterator[Callable[[], None]]:
    """A transaction for a write of one record's own rows (a record PATCH), which yields
    `tail()`: call it before the first statement that writes rows other writers also write
    (the version bump, whose triggers mark other records' STIX objects, the journal, the outbox,
    the rendering), and commit soon after it.

    PostgreSQL: the write lock `exclusive()` takes is held shared here (record writes run
    side by side, never beside an `exclusive()` writer); the caller locks its record's row
    first (`FOR NO KEY UPDATE`: two writes of one record queue there, and If-Match is exact);
    `tail()` takes the journal's lock and bumps the data version, so that change rows (the
    feed's `seq`) are drawn in commit order, as under `exclusive()`. The lock order is always
    the write lock (shared), the record's row, the journal's lock: no deadlock between record
    writes, and an `exclusive()` writer waits for those in flight before it touches a row.
    SQLite: `exclusive()` (one writer at a time), and `tail()` does nothing.
    """
    if not is_postgres():
        with exclusive():
            yield lambda: None
        return
    with database.atomic():
        database.execute_sql("SELECT pg_advisory_xact_lock_shared(%s)", (_SCHEMA_LOCK,))
        taken = False

        def tail() -> None:
            nonlocal taken
            if not taken:
                database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_JOURNAL_LOCK,))
                data_version.bump()
                taken = True

        yield tail


def table_names() -> set[str]:
    """The tables of the current schema (on PostgreSQL, the first of the search path, which
    need not be `public`)."""
    if is_postgres():
        schema = database.execute_sql("SELECT current_schema()").fetchone()[0]
        return set(database.get_tables(schema=schema))
    return set(database.get_tables())


def is_legacy(tables: set[str]) -> bool:
    """True for a database of release 1 (tables, but no schema_version table)."""
    return "source" in tables and "schema_version" not in tables


# SQLite's FTS5 index is contentless and keyed by record: its rowid holds the record type's code
# above FTS_ID_BITS and the record's id below, so a match names its record with no lookup and the
# matches of one type are one rowid range. The text stays in `search_document`.
# It keeps no document sizes (`columnsize=0`): bm25() read each match's size from a table of its
# own, most of the cost of ranking a common word; relevance then
# weighs term frequency without document length, as PostgreSQL's ts_rank_cd does by default.
FTS_ID_BITS = 40


def fts_rowid(row: str = "") -> str:
    """SQL: the FTS5 rowid of the search document whose columns are prefixed `row` (`new.`)."""
    cases = " ".join(f"WHEN '{t.name}' THEN {t.search_code}" for t in SEARCHABLE)
    return f"((CASE {row}record_type {cases} ELSE 0 END << {FTS_ID_BITS}) | {row}record_id)"


SQLITE_DDL = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        title, body, content='', columnsize=0,
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER IF NOT EXISTS search_document_ai AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts(rowid, title, body)
        VALUES ({fts_rowid("new.")}, new.title, new.body); END""",
    f"""CREATE TRIGGER IF NOT EXISTS search_document_ad AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', {fts_rowid("old.")}, old.title, old.body); END""",
    f"""CREATE TRIGGER IF NOT EXISTS search_document_au AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', {fts_rowid("old.")}, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body)
        VALUES ({fts_rowid("new.")}, new.title, new.body); END""",
]

# Full text stems English words and folds accents on both backends: FTS5's porter stemmer over
# unicode61 without diacritics; on PostgreSQL the `briefing_english` configuration (the english
# stemmer, after the unaccent dictionary when that extension can be created; without it, the
# search still stems but does not fold accents: `fulltext_configuration()` says which).
TS_CONFIG = "briefing_english"

POSTGRES_DDL = [
    """ALTER TABLE search_document ADD COLUMN IF NOT EXISTS tsv tsvector
        GENERATED ALWAYS AS (
            setweight(to_tsvector('briefing_english', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('briefing_english', coalesce(body, '')), 'B')) STORED""",
    "CREATE INDEX IF NOT EXISTS search_document_tsv ON search_document USING GIN (tsv)",
] + [
    # One partial index per record type: a search of events never reads statements' entries.
    f"CREATE INDEX IF NOT EXISTS search_document_tsv_{kind} ON search_document "
    f"USING GIN (tsv) WHERE record_type = '{kind}'"
    for kind in ("actor", "event", "statement", "location", "source")
]


# An event's record is kept rendered as JSON in `event_json` (api/queries/rendered.py). These
# triggers set its `body` to NULL (stale) whenever something the record shows changes, whoever
# writes; the writer renders stale bodies again before it commits. Each is (table, the writes
# that matter, the columns whose update matters (None: any), the ids of the events whose records
# show the row `{row}`). An actor's or a source's insert or delete needs none: their links'
# triggers fire (a deletion cascades to them).
STALE_EVENTS: list[tuple[str, str, tuple[str, ...] | None, str]] = [
    ("event", "UPDATE", None, "SELECT {row}.id"),  # and a new event gets its row, stale
    ("event_participant", "INSERT UPDATE DELETE", None, "SELECT {row}.event_id"),
    ("event_casualty", "INSERT UPDATE DELETE", None, "SELECT {row}.event_id"),
    (
        "citation",
        "INSERT UPDATE DELETE",
        None,
        "SELECT {row}.record_id WHERE {row}.record_type = 'event'",
    ),
    (
        "actor",
        "UPDATE",
        ("slug", "name", "kind"),
        "SELECT event_id FROM event_participant WHERE actor_id = {row}.id "
        "UNION ALL SELECT event_id FROM event_casualty WHERE side_id = {row}.id",
    ),
    (
        "source",
        "UPDATE",
        ("slug", "title"),
        "SELECT record_id FROM citation WHERE source_id = {row}.id AND record_type = 'event'",
    ),
    # its own events show its ref, and places inside it without coordinates may show its point
    (
        "location",
        "INSERT UPDATE DELETE",
        ("slug", "name", "kind", "path", "latitude", "longitude", "coordinate_precision"),
        "SELECT event.id FROM event JOIN location ON location.id = event.location_id "
        "WHERE substr(location.path, 1, length({row}.path)) = {row}.path",
    ),
]
_STALE = "UPDATE event_json SET body = NULL WHERE body IS NOT NULL AND event_id IN ({events})"
_NEW_EVENT = (
    "DELETE FROM event_json WHERE event_id = {row}.id; "
    "INSERT INTO event_json (event_id, body) VALUES ({row}.id, NULL)"
)
_EVENT_JSON_STALE_INDEX = (
    "CREATE INDEX IF NOT EXISTS event_json_stale ON event_json (event_id) WHERE body IS NULL"
)


def stale_trigger(table: str, write: str) -> str:
    """The name of the trigger of STALE_EVENTS on `table` for `write` (INSERT, UPDATE, DELETE)."""
    return f"{table}_stales_event_json_{write[0].lower()}"


def _stale_event_triggers() -> list[str]:
    """The statements that create what is missing of STALE_EVENTS on the bound backend: per
    table, a trigger for each write that matters (on PostgreSQL, one function they share), and
    the one that gives a new event its `event_json` row."""
    postgres = is_postgres()
    statements = [_EVENT_JSON_STALE_INDEX]
    existing: set[str] = set()
    if postgres:  # CREATE TRIGGER locks its table: only those missing
        tables = [table for table, *_ in STALE_EVENTS]
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[])"
        existing = {name for (name,) in database.execute_sql(query, (tables,))}
    for table, writes, columns, events in STALE_EVENTS:
        name = f"{table}_stales_event_json"
        stale = {row: _STALE.format(events=events.format(row=row)) for row in ("OLD", "NEW")}
        actions = {  # what each write does, with OLD and NEW as the backend spells them
            "INSERT": [stale["NEW"]],
            "UPDATE": [stale["OLD"], stale["NEW"]],
            "DELETE": [stale["OLD"]],
        }
        if table == "event":
            actions["INSERT"], writes = [_NEW_EVENT.format(row="NEW")], "INSERT UPDATE"
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns or ())
        if postgres:
            branches = " ".join(
                f"IF TG_OP = '{write}' THEN {'; '.join(actions[write])}; END IF;"
                for write in writes.split()
            )
            statements.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {branches} RETURN NULL; END $$"
            )
        for write in writes.split():
            trigger = stale_trigger(table, write)
            when = changed if write == "UPDATE" else ""
            if postgres and trigger not in existing:
                statements.append(
                    f"CREATE TRIGGER {trigger} AFTER {write} ON {table} FOR EACH ROW "
                    + (f"WHEN ({when}) " if when else "")
                    + f"EXECUTE FUNCTION {name}()"
                )
            elif not postgres:
                body = "; ".join(actions[write]).replace("OLD.", "old.").replace("NEW.", "new.")
                when = when.replace("IS DISTINCT FROM", "IS NOT")
                when = when.replace("OLD.", "old.").replace("NEW.", "new.")
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {write} ON {table} "
                    + (f"WHEN {when} " if when else "")
                    + f"BEGIN {body}; END"
                )
    return statements


# A record's STIX object is kept rendered in `stix_json` (api/queries/stix_kept.py). These
# triggers mark it stale (a row in `stix_stale`; a narrow table: a write to an actor that 130,000
# objects refer to marks them in a fraction of the time that rewriting their stored rows took)
# whenever something the object shows changes: its own row and links, its citations, and what
# it copies from other records (the type of an actor ref, a speaker's name, the names of the
# places around a place, a cited source's title and url; the object's `modified` follows their
# `updated_at` too, api/queries/stix.py). Each is (table, the writes that matter, the columns
# whose update matters (None: any), the SELECT of the (record type, record id) of the objects
# that show the row `{row}`). A record's own row also marks it on insert, and takes its object
# and mark away on delete.
_STIX_OWN = ("actor", "relation", "location", "event", "statement")
STALE_STIX: list[tuple[str, str, tuple[str, ...] | None, str]] = [
    *(
        (
            table,
            "INSERT UPDATE" if table != "location" else "INSERT",
            None,
            f"SELECT '{table}' AS t, {{row}}.id AS i",
        )
        for table in _STIX_OWN
    ),
    (  # not its places at each level (api/store/places.py): its object shows none of them
        "location",
        "UPDATE",
        (
            "slug",
            "name",
            "kind",
            "parent_id",
            "path",
            "latitude",
            "longitude",
            "coordinate_precision",
            "country",
            "description",
            "version",
            "updated_at",
        ),
        "SELECT 'location' AS t, {row}.id AS i",
    ),
    *(
        (
            f"{table}_alias",
            "INSERT UPDATE DELETE",
            None,
            f"SELECT '{table}' AS t, {{row}}.{table}_id AS i",
        )
        for table in ("actor", "location")
    ),
    (
        "location_region",
        "INSERT UPDATE DELETE",
        None,
        "SELECT 'location' AS t, {row}.location_id AS i",
    ),
    *(
        (link, "INSERT UPDATE DELETE", None, "SELECT 'event' AS t, {row}.event_id AS i")
        for link in ("event_participant", "event_casualty")
    ),
    *(
        (
            f"statement_{link}",
            "INSERT UPDATE DELETE",
            None,
            "SELECT 'statement' AS t, {row}.statement_id AS i",
        )
        for link in ("speaker", "principal", "addressee", "mention", "event")
    ),
    (
        "citation",
        "INSERT UPDATE DELETE",
        None,
        "SELECT {row}.record_type AS t, {row}.record_id AS i WHERE {row}.record_type != 'source'",
    ),
]
# A record other objects copy from is marked once, as `~<table>` in `stix_stale`, not each
# object that copies from it (an actor: its events', relations' and statements' objects, a
# hub's 130,000; a source: what cites it; a place: the places within it): those are rendered
# after the write (api/queries/stix_kept.py `settle`), and rendered on the spot by a reader
# meanwhile, so a write's cost does not grow with them. (table, the columns whose update
# matters); stix_kept.DEPENDENTS says which objects copy from each.
FANOUT_STIX: list[tuple[str, tuple[str, ...]]] = [
    ("actor", ("slug", "name", "kind", "updated_at")),
    ("source", ("slug", "title", "url", "updated_at")),
    ("location", ("slug", "name", "kind", "path", "updated_at")),
]
FANOUT_MARK = "~"
# (table, trigger) of the triggers that marked each such object in the write's transaction
# (schemas 19 and 20): `create_objects` drops them
_RETIRED_STIX = (
    ("actor", "actor_stix_17_u"),
    ("source", "source_stix_18_u"),
    ("location", "location_stix_19_u"),
)
_STIX_GONE = (
    "DELETE FROM stix_json WHERE record_type = '{table}' AND record_id = {row}.id; "
    "DELETE FROM stix_stale WHERE record_type = '{table}' AND record_id = {row}.id"
)


def _stix_mark(select: str) -> str:
    """The statement that marks the objects `select` names (as `t`, `i`) stale, unless marked.
    Not INSERT OR IGNORE: SQLite applies the conflict policy of the statement that fired the
    trigger instead, and a foreign key's SET NULL fires them as an aborting UPDATE."""
    return (
        f"INSERT INTO stix_stale (record_type, record_id) SELECT DISTINCT t, i FROM ({select}) "
        "AS x WHERE NOT EXISTS (SELECT 1 FROM stix_stale AS s "
        "WHERE s.record_type = x.t AND s.record_id = x.i)"
    )


def _stix_rules() -> list[tuple[str, str, str, str, tuple[str, ...] | None, list[str]]]:
    """(trigger, function, table, write, columns, statements with OLD/NEW) of every trigger that
    keeps `stix_json` current."""
    rules: list[tuple[str, str, str, str, tuple[str, ...] | None, list[str]]] = []
    for table in _STIX_OWN:
        gone = _STIX_GONE.format(table=table, row="OLD")
        rules.append((f"{table}_stix_gone", f"{table}_stix_gone", table, "DELETE", None, [gone]))
    for number, (table, writes, columns, select) in enumerate(STALE_STIX):
        name = f"{table}_stix_{number}"
        for write in writes.split():
            rows = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}[write]
            if write == "UPDATE" and "{row}." not in select.replace("{row}.id", ""):
                rows = ["NEW"]  # it names its objects by the row's id alone, which stays
            statements = [_stix_mark(select.format(row=row)) for row in rows]
            trigger = f"{name}_{write[0].lower()}"
            rules.append((trigger, trigger, table, write, columns, statements))
    for table, watched in FANOUT_STIX:
        mark = _stix_mark(f"SELECT '{FANOUT_MARK}{table}' AS t, NEW.id AS i")
        trigger = f"{table}_stix_fanout_u"
        rules.append((trigger, trigger, table, "UPDATE", watched, [mark]))
    return rules


def _drop_retired_stix_triggers() -> None:
    """Drop the triggers that marked every object copying from a record in the write's
    transaction (FANOUT_STIX marks the record instead), where they exist."""
    if not is_postgres():
        for _table, trigger in _RETIRED_STIX:
            database.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    query = "SELECT tgname FROM pg_trigger WHERE tgname = ANY(%s)"
    present = {name for (name,) in database.execute_sql(query, ([t for _, t in _RETIRED_STIX],))}
    for table, trigger in _RETIRED_STIX:
        if trigger in present:  # DROP TRIGGER locks its table even when there is none
            database.execute_sql(f"DROP TRIGGER {trigger} ON {table}")
            database.execute_sql(f"DROP FUNCTION IF EXISTS {trigger}()")


def _stale_stix_triggers() -> list[str]:
    """The statements that create what is missing of the triggers keeping `stix_json`
    current on the bound backend (on PostgreSQL, a function per trigger)."""
    postgres = is_postgres()
    statements: list[str] = []
    existing: set[str] = set()
    rules = _stix_rules()
    if postgres:  # CREATE TRIGGER locks its table: only those missing
        tables = sorted({table for _, _, table, *_ in rules})
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[])"
        existing = {name for (name,) in database.execute_sql(query, (tables,))}
    for trigger, function, table, write, columns, actions in rules:
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns or ())
        if postgres:
            if trigger in existing:
                continue
            statements.append(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {'; '.join(actions)}; RETURN NULL; END $$"
            )
            statements.append(
                f"CREATE TRIGGER {trigger} AFTER {write} ON {table} FOR EACH ROW "
                + (f"WHEN ({changed}) " if changed else "")
                + f"EXECUTE FUNCTION {function}()"
            )
        else:
            body = "; ".join(actions).replace("OLD.", "old.").replace("NEW.", "new.")
            when = changed.replace("IS DISTINCT FROM", "IS NOT")
            when = when.replace("OLD.", "old.").replace("NEW.", "new.")
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {trigger} AFTER {write} ON {table} "
                + (f"WHEN {when} " if when else "")
                + f"BEGIN {body}; END"
            )
    return statements


def _stix_columns_present() -> bool:
    """Whether every column the `stix_json` triggers watch exists (a migration before the
    version that adds one creates today's tables, but these triggers only at the end)."""
    present: dict[str, set[str]] = {}
    watched = [(table, columns) for table, _writes, columns, _select in STALE_STIX]
    for table, columns in [*watched, *FANOUT_STIX]:
        if table not in present:
            present[table] = {column.name for column in database.get_columns(table)}
        if not set(columns or ()) <= present[table]:
            return False
    return True


def drop_stale_stix_triggers() -> None:
    """Drop the triggers keeping `stix_json` current (a bulk load renders its objects once, at
    the end; `create_objects()` makes them again)."""
    for trigger, _function, table, *_ in _stix_rules():
        on = f" ON {table}" if is_postgres() else ""
        database.execute_sql(f"DROP TRIGGER IF EXISTS {trigger}{on}")


def drop_stale_event_triggers() -> None:
    """Drop the triggers of STALE_EVENTS (a bulk load renders its events once, at the end;
    `create_objects()` makes them again)."""
    for table, *_ in STALE_EVENTS:
        for write in ("INSERT", "UPDATE", "DELETE"):
            on = f" ON {table}" if is_postgres() else ""
            database.execute_sql(f"DROP TRIGGER IF EXISTS {stale_trigger(table, write)}{on}")


def _create_text_configuration() -> None:
    """PostgreSQL: the `briefing_english` text search configuration, if missing: english
    stemming, with accents folded by `unaccent` when the extension exists or can be created
    (a savepoint keeps a refused CREATE EXTENSION from aborting the transaction)."""
    exists = database.execute_sql(
        "SELECT 1 FROM pg_ts_config WHERE cfgname = %s AND cfgnamespace = "
        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        (TS_CONFIG,),
    ).fetchone()
    if exists:
        return
    unaccent = unaccent_schema()
    database.execute_sql(f"CREATE TEXT SEARCH CONFIGURATION {TS_CONFIG} (COPY = english)")
    if unaccent:
        database.execute_sql(
            f"ALTER TEXT SEARCH CONFIGURATION {TS_CONFIG} ALTER MAPPING FOR "
            f'hword, hword_part, word WITH "{unaccent}".unaccent, english_stem'
        )


def unaccent_schema() -> str | None:
    """The schema of the `unaccent` extension, created if missing and allowed (it is
    database-wide, in whichever schema installed it first); None when it cannot be."""
    query = (
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    )
    found = database.execute_sql(query).fetchone()
    if found:
        return found[0]
    try:
        with database.atomic():  # a savepoint: a refusal leaves the transaction usable
            database.execute_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except pw.DatabaseError:
        return None
    found = database.execute_sql(query).fetchone()
    return found[0] if found else None


def fulltext_configuration() -> str:
    """How full text folds and stems on the bound database (for /readyz and the docs)."""
    if not is_postgres():
        return "fts5 porter unicode61 remove_diacritics 2"
    folded = database.execute_sql(
        "SELECT 1 FROM pg_ts_config_map m JOIN pg_ts_config c ON c.oid = m.mapcfg "
        "JOIN pg_ts_dict d ON d.oid = ANY(ARRAY[m.mapdict]) "
        "WHERE c.cfgname = %s AND d.dictname = 'unaccent' LIMIT 1",
        (TS_CONFIG,),
    ).fetchone()
    return f"{TS_CONFIG}: english stemming" + (", unaccent" if folded else " (no unaccent)")


def drop_fulltext() -> None:
    """Drop the full-text index (a migration rebuilds it with create_objects())."""
    if is_postgres():
        database.execute_sql("ALTER TABLE search_document DROP COLUMN IF EXISTS tsv")
        database.execute_sql(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {TS_CONFIG}")
        return
    for trigger in ("ai", "ad", "au"):
        database.execute_sql(f"DROP TRIGGER IF EXISTS search_document_{trigger}")
    database.execute_sql("DROP TABLE IF EXISTS search_fts")


def rebuild_fulltext() -> None:
    """Fill a freshly created FTS5 index from `search_document` (PostgreSQL's generated
    column fills itself)."""
    if not is_postgres():
        database.execute_sql(
            f"INSERT INTO search_fts(rowid, title, body) "
            f"SELECT {fts_rowid()}, title, body FROM search_document"
        )
        database.execute_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")


def create_schema() -> None:
    """Create every missing table, index and full-text structure of the current version, in
    one locked transaction; SchemaOutdated on a database of an older release."""
    with database.connection_context(), exclusive(bump=False):
        if is_legacy(table_names()):
            raise SchemaOutdated("The database predates schema versions: run briefing db upgrade.")
        create_objects()
        if not SchemaVersion.select().exists():
            SchemaVersion.create(version=SCHEMA_VERSION)


# Indexes the aggregates read (api/queries/aggregates.py): months x type in the index's order,
# no sort (SQLite groups by sorting every row otherwise); a place's events in a date range, with
# their months and fatalities, and the places of a date range's events, from the index alone;
# the records whose span crosses a month (about one in ten) in partial indexes of their own, in
# the order their second pass groups them (`Dates`), and with their places at each level. Made
# here once their columns exist, not in the models' Meta: a migration before the version that
# adds a column creates the models' indexes too.
# A place's events in a date range, with what a date grouping and the fatalities read.
_DATES_AND_BUCKETS = (
    "range_end",
    "range_start",
    "start_month",
    "end_month",
    "start_week",
    "end_week",
    "date_precision",
    "date_kind",
    "fatalities",
)
AGGREGATE_INDEXES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "event_start_month_end_month_type": ("event", ("start_month", "end_month", "type"), ""),
    "event_place_dates_buckets": ("event", ("location_id", *_DATES_AND_BUCKETS), ""),
    "event_country_dates_buckets": ("event", ("country_place_id", *_DATES_AND_BUCKETS), ""),
    "event_range_end_range_start_location_id": (
        "event",
        ("range_end", "range_start", "location_id"),
        "",
    ),
    "event_province_months": ("event", ("province_place_id", "start_month", "end_month"), ""),
    "event_weeks": ("event", ("start_week", "end_week"), ""),
    "event_across_months": (
        "event",
        ("range_start", "date_precision", "date_kind", "type", "range_end", "start_month"),
        "start_month != end_month",
    ),
    "event_across_months_all": (  # the one above, covering what every grouping reads
        "event",
        (
            "range_start",
            "date_precision",
            "date_kind",
            "type",
            "range_end",
            "start_month",
            "end_month",
            "sub_type",
            "country_place_id",
            "province_place_id",
            "district_place_id",
            "city_place_id",
            "fatalities",
        ),
        "start_month != end_month",
    ),
}


def _create_aggregate_indexes() -> None:
    for name, (table, columns, where) in AGGREGATE_INDEXES.items():
        present = {column.name for column in database.get_columns(table)}
        needed = {*columns, *(("start_month", "end_month") if where else ())}
        if needed <= present:
            database.execute_sql(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})"
                + (f" WHERE {where}" if where else "")
            )


def _index_columns(index: pw.Node) -> set[str] | None:
    """The columns a model index names; None when it or one of its parts is an expression."""
    if not isinstance(index, pw.Index):
        return None
    columns = set()
    for part in index._expressions:
        field = part.unwrap() if isinstance(part, pw.Node) else part
        if not isinstance(field, pw.Field):
            return None
        columns.add(field.column_name)
    return columns


def create_indexes(model: type[pw.Model]) -> None:
    """The indexes of `model` whose columns all exist, if missing. An index on a column a later
    migration adds waits for it (the last `create_objects()` of `upgrade()` makes it): on SQLite
    `CREATE INDEX` naming a missing column indexes a string literal instead, and once the column
    is added the rows written before it are missing from the index (a malformed file)."""
    present = {column.name for column in database.get_columns(model._meta.table_name)}
    for index in model._meta.fields_to_index():
        if (_index_columns(index) or set()) <= present:
            database.execute(model._schema._create_index(index, safe=True))


def _create_tables() -> None:
    """Every missing table with its indexes; on the tables that exist, every index that can be
    made (`create_indexes`)."""
    existing = table_names()
    for model in pw.sort_models(TABLES):
        if model._meta.table_name in existing:
            create_indexes(model)
        else:
            model._schema.create_all(safe=True)


def create_objects() -> None:
    """Every missing table, index and full-text structure (within the caller's transaction)."""
    _create_tables()
    _create_aggregate_indexes()
    if is_postgres():  # location paths are matched by prefix (LIKE 'x%'), in any collation
        database.execute_sql(
            "CREATE INDEX IF NOT EXISTS location_path_prefix ON location (path text_pattern_ops)"
        )
    if is_postgres():
        _create_text_configuration()
    for statement in POSTGRES_DDL if is_postgres() else SQLITE_DDL:
        database.execute_sql(statement)
    for statement in _stale_event_triggers():
        database.execute_sql(statement)
    if _stix_columns_present():
        _drop_retired_stix_triggers()
        for statement in _stale_stix_triggers():
            database.execute_sql(statement)
    if places.has_event_places():
        for statement in places.event_place_triggers():
            database.execute_sql(statement)
    data_version.create()


def drop_schema() -> None:
    """Drop every table of the service, and the releases' snapshots (tests start from an empty
    database)."""
    with database.connection_context():
        if Release._meta.table_name in table_names():
            for (storage,) in Release.select(Release.storage).tuples():
                snapshots.drop(storage)
        if not is_postgres():  # SQLite's DROP TABLE deletes the rows first: their cascades
            drop_stale_event_triggers()  # would fire these triggers on tables dropped before
            drop_stale_stix_triggers()
            places.drop_event_place_triggers()
        database.drop_tables(TABLES, safe=True, cascade=is_postgres())
        if not is_postgres():
            database.execute_sql("DROP TABLE IF EXISTS search_fts")
        else:
            database.execute_sql(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {TS_CONFIG}")
            database.execute_sql("DROP FUNCTION IF EXISTS bump_data_version()")
            for function in ("event_places", "location_places"):  # api/store/places.py
                database.execute_sql(f"DROP FUNCTION IF EXISTS {function}()")
            for table, *_ in STALE_EVENTS:
                database.execute_sql(f"DROP FUNCTION IF EXISTS {table}_stales_event_json()")
            for _trigger, function, *_ in _stix_rules():
                database.execute_sql(f"DROP FUNCTION IF EXISTS {function}()")
            for _table, function in _RETIRED_STIX:
                database.execute_sql(f"DROP FUNCTION IF EXISTS {function}()")
