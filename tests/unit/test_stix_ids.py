"""STIX ids and times as pure functions: a record's id is RFC 9562's UUIDv5 of its public id,
and its `created` stays put while `modified` follows each version."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from api.queries import stix


@pytest.mark.parametrize("slug", ["kataib-hezbollah", "a", "ain-al-asad-air-base", "x" * 200])
@pytest.mark.parametrize("record_type", ["actor", "event", "source"])
def test_ids_are_the_uuid5_of_the_public_id(record_type, slug):
    namespace = uuid.uuid4()
    expected = uuid.uuid5(namespace, f"{record_type}/{slug}")
    found = stix.stix_id(namespace, record_type, slug, "person")
    prefix, _, text = found.partition("--")
    assert uuid.UUID(text) == expected and uuid.UUID(text).version == 5
    assert prefix == stix.stix_type(record_type, "person")
    assert stix.stix_id(uuid.uuid4(), record_type, slug, "person") != found


def test_actor_types_follow_the_kind():
    assert stix.stix_type("actor", "armed_group") == "threat-actor"
    assert stix.stix_type("actor", "person") == "identity"
    assert stix.stix_type("event") == "incident"


def test_timestamps_are_utc_with_z():
    aware = dt.datetime(2020, 4, 7, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert stix.timestamp(aware) == "2020-04-07T00:00:00.000000Z"
    assert stix.timestamp(dt.date(2020, 4, 7)) == "2020-04-07T00:00:00.000000Z"
    assert stix.timestamp("2020-04-07T00:00:00.5+00:00") == "2020-04-07T00:00:00.500000Z"


def test_created_stays_while_modified_follows_each_version():
    row_written = dt.datetime(2026, 1, 1, 12, 0, 0, 100)
    journaled = dt.datetime(2026, 1, 1, 12, 0, 0, 300)  # the journal is written just after
    first = stix.version_times((journaled, journaled), row_written)
    assert first[0] <= first[1]
    patched_row = dt.datetime(2026, 1, 2, 9, 0, 0, 0)
    patched_journal = dt.datetime(2026, 1, 2, 9, 0, 0, 200)
    second = stix.version_times((journaled, patched_journal), patched_row)
    assert second[0] == first[0] and second[1] > first[1]
    alone = stix.version_times(None, row_written)  # loaded around the journal
    assert alone[0] == alone[1] == stix.timestamp(row_written)
