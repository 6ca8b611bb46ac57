"""What lets an actor PATCH write before the journal's lock (api/ingest/curation.py
`writes_own_rows`) holds of the staling triggers (api/store/ddl.py): no write about another
record marks an actor's STIX object, and an actor's own write reaches other records' marks only
through the fields the rule names (and `updated_at`, which the version bump under the journal's
lock changes; `slug`, which a PATCH cannot)."""

from __future__ import annotations

from api.ingest.curation import _ACTOR_FIELDS_SHOWN_ELSEWHERE, writes_own_rows
from api.store.ddl import STALE_EVENTS, STALE_STIX

_ACTOR_OWN_TABLES = {"actor", "actor_alias", "citation"}
_UNDER_THE_JOURNAL_LOCK = {"slug", "updated_at"}


def test_nothing_written_about_another_record_marks_an_actor():
    for table, _writes, _columns, select in STALE_STIX:
        if table not in _ACTOR_OWN_TABLES:
            assert "'actor'" not in select, table


def test_an_actor_reaches_other_records_only_through_the_fields_named():
    allowed = set(_ACTOR_FIELDS_SHOWN_ELSEWHERE) | _UNDER_THE_JOURNAL_LOCK
    for table, _writes, columns, select in [*STALE_STIX, *STALE_EVENTS]:
        if table == "actor" and "{row}.id AS i" not in select:  # marks other records
            assert columns is not None and set(columns) <= allowed, columns


def test_an_actor_renamed_is_written_under_the_journal_lock():
    current = {"id": "a", "name": "A", "kind": "person", "description": "x"}
    assert writes_own_rows("actors", current, current | {"description": "y"})
    assert not writes_own_rows("actors", current, current | {"name": "B"})
    assert not writes_own_rows("actors", current, current | {"kind": "organization"})
    assert not writes_own_rows("events", current, current | {"description": "y"})
