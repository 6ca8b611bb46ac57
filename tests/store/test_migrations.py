"""Migrations: a database made by release 1 (today's main before schema versions; its DDL is
captured in tests/fixtures/import/schema_v1.*.sql) is filled, upgraded, and loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import peewee as pw
import pytest
from click.testing import CliRunner
from playhouse.db_url import connect

from api.cli import cli
from api.store.ddl import SCHEMA_VERSION
from tests.scratch import is_postgres, scratch_database

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
V1_TABLES = [
    "source",
    "actor",
    "actor_alias",
    "relation",
    "location",
    "location_alias",
    "event",
    "event_participant",
    "statement",
    "statement_speaker",
    "statement_addressee",
    "statement_mention",
    "statement_event",
    "citation",
    "search_document",
]


def build_v1(url: str) -> pw.Database:
    """An empty release-1 schema at `url`, from the captured DDL."""
    db = connect(url)
    db.connect()
    if is_postgres(url):
        with db.cursor() as cursor:
            cursor.execute((FIXTURES / "schema_v1.postgresql.sql").read_text())
    else:
        db.connection().executescript((FIXTURES / "schema_v1.sqlite.sql").read_text())
    return db


def rows(db: pw.Database, table: str, columns: list[str]) -> list[tuple]:
    sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY id"
    return [tuple(row) for row in db.execute_sql(sql).fetchall()]


def fill_from_session(v1: pw.Database) -> dict[str, list[tuple]]:
    """Copy the seeded session database into the release-1 schema (its columns only)."""
    from api.store.db import database

    copied = {}
    with database.connection_context():
        for table in V1_TABLES:
            columns = [c.name for c in v1.get_columns(table)]
            if table == "search_document":
                columns = [c for c in columns if c != "tsv"]  # generated
            data = rows(database, table, columns)
            marks = ", ".join(["%s" if is_postgres_db(v1) else "?"] * len(columns))
            with v1.atomic():
                for row in data:
                    v1.execute_sql(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", row
                    )
            if is_postgres_db(v1):
                v1.execute_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            copied[table] = (columns, data)
    return copied


def is_postgres_db(db: pw.Database) -> bool:
    return isinstance(db, pw.PostgresqlDatabase)


def unstamped(value):
    """A response without its `updated_at` times."""
    if isinstance(value, dict):
        return {k: unstamped(v) for k, v in value.items() if k != "updated_at"}
    if isinstance(value, list):
        return [unstamped(v) for v in value]
    return value


def test_a_release_1_database_is_upgraded_and_loses_nothing(
    client, database_url, tmp_path, monkeypatch, make_app
):
    with scratch_database(database_url, tmp_path, "v1") as url:
        v1 = build_v1(url)
        copied = fill_from_session(v1)
        assert copied["event"][1] and copied["citation"][1]
        v1.close()

        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded the schema from version 1 to {SCHEMA_VERSION}" in result.output
        # both backends stem and fold accents (PostgreSQL: unaccent, created as superuser here)
        assert "porter unicode61 remove_diacritics" in result.output or (
            "english stemming, unaccent" in result.output
        )
        again = CliRunner().invoke(cli, ["db", "upgrade"])
        assert f"schema at version {SCHEMA_VERSION}: up to date" in again.output

        upgraded = connect(url)
        for table, (columns, data) in copied.items():
            assert rows(upgraded, table, columns) == data, table
        citations = upgraded.execute_sql(
            "SELECT COUNT(*) FROM citation WHERE bundle_id = source_id"
        )
        assert citations.fetchone()[0] == len(copied["citation"][1])
        assert "text" in [c.name for c in upgraded.get_columns("source")]
        assert "api_key" in upgraded.get_tables()
        for table in ("event", "statement"):  # v6 and v8: one date-order index left
            indexes = {index.name: index.columns for index in upgraded.get_indexes(table)}
            assert f"{table}_date_id" not in indexes, indexes
            assert ["date"] not in indexes.values(), indexes
            assert ["date", "id", "range_end", "range_start"] in indexes.values(), indexes
        upgraded.close()

        served = make_app(url).test_client()
        for path in (
            "/v1/events?limit=500",
            "/v1/actors/kataib-hezbollah",
            "/v1/search?q=patriot",
            "/v1/search?q=strikes",
        ):
            # the same records; `updated_at` is the time of the upgrade (v3)
            assert unstamped(served.get(path).json) == unstamped(client.get(path).json), path
        # v4 rebuilt the full-text index: it stems and folds accents (release 1 did neither)
        assert served.get("/v1/events?q=strikes").json, "the index stems after the upgrade"

        # The seed loads again over it: the source gains its text, the events and statements
        # their v4 fields (casualties, speakers' principals); nothing is created or deleted.
        from api.ingest import default_files, load_files

        report = load_files(default_files())
        assert report.summary["sources"]["updated"] == 1
        assert not any(c["created"] or c["deleted"] for c in report.summary.values())
        for path in ("/v1/events?limit=500", "/v1/statements?limit=500", "/v1/locations"):
            assert served.get(path).json == client.get(path).json, path
        assert (
            served.get("/v1/sources/al-monitor-2020-04-07-us-iran-showdown-iraq/text").status_code
            == 200
        )


def test_a_database_newer_than_the_code_is_refused(database_url, tmp_path, make_app):
    from api.store.db import bind, database
    from api.store.ddl import SchemaOutdated
    from api.store.migrations import upgrade
    from api.store.models import SchemaVersion

    with scratch_database(database_url, tmp_path, "newer") as url:
        make_app(url)
        with database.connection_context():
            SchemaVersion.update(version=99).execute()
        with pytest.raises(SchemaOutdated, match="newer than this release"):
            upgrade()
        bind(database_url)


# Release 6's FTS5 index (api/store/ddl.py before v7): external content, rowid = search_document.id
V6_FULLTEXT = [
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_au",
    "DROP TABLE IF EXISTS search_fts",
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, body, content='search_document', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END""",
    """CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body); END""",
    """CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END""",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]


def test_a_version_6_database_gets_the_fulltext_index_keyed_by_record(
    client, database_url, tmp_path, monkeypatch, make_app, seeded_template
):
    """v7 rebuilds SQLite's FTS5 index (contentless, rowid = type code and record id) from the
    search documents of an existing database; searches answer as before."""
    with scratch_database(database_url, tmp_path, "v6", template=seeded_template) as url:
        v6 = connect(url)
        if not is_postgres(url):
            for statement in V6_FULLTEXT:
                v6.execute_sql(statement)
        v6.execute_sql("UPDATE schema_version SET version = 6")
        v6.close()

        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded the schema from version 6 to {SCHEMA_VERSION}" in result.output

        served = make_app(url).test_client()
        for path in (
            "/v1/search?q=Iraq&limit=100",
            "/v1/search?q=Iraq&type=event&type=actor",
            "/v1/events?q=strikes&limit=500",
            "/v1/events?q=rocket&sort=date",
            "/v1/statements?q=Kataib",
            "/v1/actors?q=al",
            "/v1/timeline?q=Iraq",
        ):
            assert served.get(path).json == client.get(path).json, path
        assert served.get("/readyz").status_code == 200
        if not is_postgres(url):
            upgraded = connect(url)
            upgraded.execute_sql(
                "CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, search_fts, 'instance')"
            )
            keyed = upgraded.execute_sql("SELECT DISTINCT doc FROM temp.terms").fetchall()
            codes = {"actor": 1, "event": 2, "statement": 3, "location": 4, "source": 5}
            documents = upgraded.execute_sql("SELECT record_type, record_id FROM search_document")
            expected = {(codes[kind] << 40) | record_id for kind, record_id in documents}
            assert expected == {rowid for (rowid,) in keyed}
            assert "search_fts_docsize" not in upgraded.get_tables()  # v9: columnsize=0
            upgraded.close()


def test_events_and_statements_have_one_date_order_index(database_url):
    """A fresh schema reads dates through (date, id, range_end, range_start) only: with a
    `date` index beside it, SQLite walked the narrower one and read every row to test a date
    filter."""
    db = connect(database_url)
    try:
        for table in ("event", "statement"):
            columns = [index.columns for index in db.get_indexes(table)]
            assert ["date", "id", "range_end", "range_start"] in columns, columns
            assert ["date"] not in columns, columns
    finally:
        db.close()


def test_a_version_9_database_gets_every_event_rendered(
    client, database_url, tmp_path, monkeypatch, make_app, seeded_template
):
    """v10 keeps event records rendered as JSON (api/queries/rendered.py): an existing
    database gets the table, the triggers that keep it fresh, and every event rendered, the
    pages as before."""
    from api.queries.events import EVENT_JSON
    from api.store.db import bind, database
    from api.store.ddl import drop_stale_event_triggers
    from api.store.models import Event, EventJson

    with scratch_database(database_url, tmp_path, "v9", template=seeded_template) as url:
        bind(url)
        with database.connection_context():  # what a version 9 database has: none of it
            drop_stale_event_triggers()
            database.execute_sql("DROP TABLE event_json")
            database.execute_sql("UPDATE schema_version SET version = 9")
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded the schema from version 9 to {SCHEMA_VERSION}" in result.output

        served = make_app(url).test_client()
        with database.connection_context():
            ids = [event_id for (event_id,) in Event.select(Event.id).tuples()]
            stored = dict(EventJson.select(EventJson.event, EventJson.body).tuples())
            assert ids and stored == EVENT_JSON.render(ids)
            Event.update(title="Changed after the upgrade").where(Event.id == ids[0]).execute()
            assert EventJson.get_by_id(ids[0]).body is None  # the triggers are there
        titles = [event["title"] for event in served.get("/v1/events?limit=500").json]
        assert "Changed after the upgrade" in titles


def test_a_version_12_database_gives_its_keys_and_sources_the_default_owner(
    database_url, tmp_path, monkeypatch, make_app, seeded_template
):
    """v13 (owners): existing keys and sources belong to `default`, so an upgraded deployment
    behaves as before: its keys still change its sources, a key of another owner does not;
    until the admin splits them (README): `briefing owners assign` gives a source away."""
    from api.http.keys import create_key
    from api.store.db import bind, database

    with scratch_database(database_url, tmp_path, "v12", template=seeded_template) as url:
        bind(url)
        key = create_key("before-owners", "write")
        with database.connection_context():  # what a version 12 database has: none of it
            for table, column in (
                ("source", "owner"),
                ("api_key", "owner"),
                ("api_key", "expires_at"),
                ("api_key", "last_used_at"),
                ("api_key", "previous_hash"),
                ("api_key", "previous_until"),
                ("change", "owner"),
            ):
                database.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN {column}')
            database.execute_sql("UPDATE schema_version SET version = 12")
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded the schema from version 12 to {SCHEMA_VERSION}" in result.output
        with database.connection_context():
            owners = database.execute_sql(
                "SELECT DISTINCT owner FROM source UNION SELECT DISTINCT owner FROM api_key"
            ).fetchall()
        assert owners == [("default",)]

        served = make_app(url).test_client()
        other = create_key("after-owners", "write", "partner-a")
        source = "/v1/sources/al-monitor-2020-04-07-us-iran-showdown-iraq"

        def delete(secret: str) -> int:
            headers = {"Authorization": f"Bearer {secret}", "If-Match": "*"}
            return served.delete(source, headers=headers).status_code

        assert delete(other) == 403
        owners = CliRunner().invoke(cli, ["owners", "assign", "partner-a", source.rsplit("/")[-1]])
        assert owners.exit_code == 0, owners.output
        assert "partner-a\t1\t1" in CliRunner().invoke(cli, ["owners", "list"]).output
        assert delete(key) == 403
        assert delete(other) == 200


def test_a_version_12_database_gets_push_and_the_feeds_sources(
    database_url, tmp_path, monkeypatch, make_app, seeded_template
):
    """v14 (push) adds subscriptions and their outbox, and fills the sources each change
    concerns from the journal: the feed's `source` filter then answers for changes made before
    the upgrade as for those after, as the audit trail's citations say."""
    from api.ingest import load_files
    from api.store.db import bind, database
    from tests.helpers import fixture_files

    with scratch_database(database_url, tmp_path, "v12", template=seeded_template) as url:
        bind(url)
        load_files(fixture_files())  # a second source: changes that do not cite the first
        with database.connection_context():  # what a version 12 database has: none of it
            for table in ("delivery", "subscription", "change_source"):
                database.execute_sql(f"DROP TABLE {table}")
            database.execute_sql("UPDATE schema_version SET version = 12")
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded the schema from version 12 to {SCHEMA_VERSION}" in result.output

        with database.connection_context():
            journal = database.execute_sql("SELECT id, record, before, after FROM change")
            cited = {
                change_id
                for change_id, record, before, after in journal.fetchall()
                if record == "al-monitor-2020-04-07-us-iran-showdown-iraq"
                or any(
                    citation.get("source") == "al-monitor-2020-04-07-us-iran-showdown-iraq"
                    for state in (before, after)
                    if state
                    for citation in json.loads(state).get("citations", [])
                )
            }
        served = make_app(url).test_client()
        feed = served.get(
            "/v1/changes?limit=1000&source=al-monitor-2020-04-07-us-iran-showdown-iraq"
        ).json
        everything = served.get("/v1/changes?limit=1000").json
        assert cited and len(cited) < len(everything)
        assert {entry["seq"] for entry in feed} == cited
        assert served.get("/v1/subscriptions").status_code == 401  # the route, with its tables


def test_a_version_12_database_gets_each_places_level(
    client, database_url, tmp_path, monkeypatch, make_app, seeded_template
):
    """v18 keeps each location's place at each administrative level (api/store/places.py):
    an existing database gets them from its paths and kinds."""
    from api.store.db import bind, database
    from api.store.models import Location
    from api.store.places import LEVEL_FIELDS

    with scratch_database(database_url, tmp_path, "v12", template=seeded_template) as url:
        bind(url)
        with database.connection_context():  # what a version 12 database knows: none of it
            Location.update(dict.fromkeys(LEVEL_FIELDS.values())).execute()
            database.execute_sql("UPDATE schema_version SET version = 12")
        monkeypatch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"upgraded the schema from version 12 to {SCHEMA_VERSION}" in result.output
        with database.connection_context():
            ids = dict(Location.select(Location.slug, Location.id).tuples())
            base = Location.get(Location.slug == "ain-al-asad-air-base")
            assert (base.country_place_id, base.province_place_id, base.city_place_id) == (
                ids["iraq"],
                ids["anbar-province"],
                None,
            )
            baghdad = Location.get(Location.slug == "baghdad")
            assert (baghdad.province_place_id, baghdad.city_place_id) == (None, ids["baghdad"])
        answer = make_app(url).test_client().get("/v1/events/aggregate?group_by=province")
        anbar = [g for g in answer.json["groups"] if g["key"]["province"] == "anbar-province"]
        assert anbar and anbar[0]["count"] == 4


def test_an_index_waits_for_the_column_a_later_migration_adds(
    database_url, tmp_path, seeded_template
):
    """A migration that creates the missing objects (`ddl.create_objects`) before a later one
    adds an indexed column does not index the column yet: on SQLite, `CREATE INDEX` naming a
    missing column indexes the string literal, and the rows written before the column came are
    then missing from the index (wrong answers, a failed integrity check); PostgreSQL refuses."""
    from api.store import ddl
    from api.store.db import bind, database

    with scratch_database(database_url, tmp_path, "later", template=seeded_template) as url:
        bind(url)
        with database.connection_context():
            # the schema before a (future) migration that adds actor.country and its index
            database.execute_sql("DROP INDEX actor_country")
            database.execute_sql("ALTER TABLE actor DROP COLUMN country")
            ddl.create_objects()  # what an earlier migration calls
            database.execute_sql("ALTER TABLE actor ADD COLUMN country VARCHAR(2)")  # the later
            ddl.create_objects()  # what upgrade() calls at its end
            database.execute_sql("UPDATE actor SET country = 'IQ'")
            total = database.execute_sql("SELECT COUNT(*) FROM actor").fetchone()[0]
            in_iraq = "SELECT COUNT(*) FROM actor WHERE country = 'IQ'"
            assert database.execute_sql(in_iraq).fetchone()[0] == total > 0
            assert ["country"] in [index.columns for index in database.get_indexes("actor")]
            if not is_postgres(url):
                assert database.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_version_20_database_loses_the_triggers_that_marked_each_dependent(curated):
    """Schemas 19 and 20 marked every STIX object that copies from an actor, a source or a
    place in the write's transaction (a hub actor: 130,000 marks); an upgrade drops those
    triggers, and a write then marks the record once (api/queries/stix_kept.py settles it)."""
    from api.store import ddl
    from api.store.db import database
    from api.store.models import Actor, StixStale

    retired = "actor_stix_17_u"
    mark_all = (
        "INSERT INTO stix_stale (record_type, record_id) SELECT 'event', event_id "
        "FROM event_participant WHERE actor_id = NEW.id AND NOT EXISTS (SELECT 1 FROM "
        "stix_stale AS s WHERE s.record_type = 'event' AND s.record_id = event_id)"
    )
    with database.connection_context(), database.atomic():
        if is_postgres(curated.url):
            database.execute_sql(
                f"CREATE FUNCTION {retired}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {mark_all}; RETURN NULL; END $$"
            )
            database.execute_sql(
                f"CREATE TRIGGER {retired} AFTER UPDATE ON actor FOR EACH ROW "
                f"EXECUTE FUNCTION {retired}()"
            )
        else:
            database.execute_sql(
                f"CREATE TRIGGER {retired} AFTER UPDATE ON actor BEGIN "
                f"{mark_all.replace('NEW.', 'new.')}; END"
            )
        ddl.create_objects()
        Actor.update(name="Kataib Hizballah").where(Actor.slug == "kataib-hezbollah").execute()
        marks = list(StixStale.select(StixStale.record_type).tuples())
        hub = Actor.get(Actor.slug == "kataib-hezbollah").id
        marked = list(StixStale.select(StixStale.record_type, StixStale.record_id).tuples())
    assert ("event",) not in marks
    assert ("~actor", hub) in marked
