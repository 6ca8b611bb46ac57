"""Event records kept rendered as JSON (api/queries/rendered.py): after every kind of
write, through every write path, each stored body is exactly a fresh rendering of its record,
and event pages are byte for byte the pages built from the rows. A body left stale is rendered
by the reader. On both backends, each test on its own seeded copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.ingest import default_files, load_files, read_bundle
from api.queries.events import EVENT_JSON, EVENTS
from api.store.db import database
from api.store.models import Event, EventJson
from tests.ingest.test_curation import MERGE

BALTIC = Path(__file__).parents[1] / "fixtures" / "import" / "baltic.yaml"
PAGES = (
    "/v1/events?limit=500",
    "/v1/events?limit=5&sort=-title",
    "/v1/events?q=base",
    "/v1/events/c-ram-deployed-ain-al-asad-2020",
    "/v1/events/habbaniya-air-base-handover-2020-04-04",
)


def stored_bodies() -> dict[int, str | None]:
    with database.connection_context():
        return dict(EventJson.select(EventJson.event, EventJson.body).tuples())


def assert_fresh(client, monkeypatch) -> None:
    """Every event has a body, each is a fresh rendering of its record, and the pages served
    from them are the pages built from the rows."""
    with database.connection_context():
        ids = [event_id for (event_id,) in Event.select(Event.id).tuples()]
        expected = EVENT_JSON.render(ids)
    assert stored_bodies() == expected
    served = {path: client.get(path) for path in PAGES}
    with monkeypatch.context() as built_from_rows:
        built_from_rows.setattr(EVENTS, "rendered", None)
        for path, response in served.items():
            assert response.status_code == 200, path
            built = client.get(path)
            assert (response.data, response.headers["ETag"]) == (built.data, built.headers["ETag"])


def write(client, curated, method: str, path: str, body: dict | None = None):
    """A curated write at the record's current version."""
    etag = client.get(path.split("?")[0]).headers["ETag"]
    headers = {**curated.auth(), "If-Match": etag}
    if body is None:
        response = client.open(path, method=method, headers=headers)
    else:
        headers["Content-Type"] = MERGE
        response = client.open(path, method=method, data=json.dumps(body), headers=headers)
    assert response.status_code in (200, 204), response.json
    return response


def event(client, slug: str) -> dict:
    return client.get(f"/v1/events/{slug}").json


def test_the_seeded_bodies_are_fresh(client, monkeypatch):
    assert stored_bodies() and None not in stored_bodies().values()
    assert_fresh(client, monkeypatch)


@pytest.fixture
def written(curated):
    return curated.app.test_client()


def test_what_an_event_shows_follows_each_write(written, curated, monkeypatch):
    client = written
    strike = "rocket-strike-near-halliburton-2020-04-06"
    write(client, curated, "PATCH", f"/v1/events/{strike}", {"title": "Rockets near a facility"})
    assert event(client, strike)["title"] == "Rockets near a facility"
    assert_fresh(client, monkeypatch)

    write(client, curated, "PATCH", "/v1/actors/us-forces", {"name": "United States forces"})
    shown = [
        p["actor"]["name"] for p in event(client, "c-ram-deployed-ain-al-asad-2020")["participants"]
    ]
    assert shown == ["United States forces"]
    assert_fresh(client, monkeypatch)

    write(client, curated, "PATCH", "/v1/locations/ain-al-asad-air-base", {"name": "Al Asad"})
    assert event(client, "c-ram-deployed-ain-al-asad-2020")["location"]["name"] == "Al Asad"
    assert_fresh(client, monkeypatch)

    participants = [
        {"actor": "us-forces", "role": "perpetrator"},
        {"actor": "irgc", "role": "target"},
    ]
    write(
        client,
        curated,
        "PATCH",
        "/v1/events/c-ram-deployed-ain-al-asad-2020",
        {"participants": participants},
    )
    assert_fresh(client, monkeypatch)

    write(client, curated, "DELETE", "/v1/actors/irgc?cascade=true")
    assert "irgc" not in [
        p["actor"]["id"] for p in event(client, "c-ram-deployed-ain-al-asad-2020")["participants"]
    ]
    assert_fresh(client, monkeypatch)

    write(client, curated, "DELETE", "/v1/locations/harir-air-base?cascade=true")
    assert event(client, "patriot-battery-harir-air-base-2020")["location"] is None
    assert_fresh(client, monkeypatch)


def test_a_place_without_coordinates_shows_its_enclosing_places(written, curated, monkeypatch):
    client = written
    base, province = "/v1/locations/habbaniya-air-base", "/v1/locations/anbar-province"
    article = "al-monitor-2020-04-07-us-iran-showdown-iraq"
    excerpt = "The most recent one was Habbaniya air base April 4."
    # the public record that supported the coordinates goes with them
    no_point = {
        "latitude": None,
        "longitude": None,
        "citations": [{"excerpt": excerpt, "source": article}],
    }
    write(client, curated, "PATCH", base, no_point)
    point = event(client, "habbaniya-air-base-handover-2020-04-04")["coordinates"]
    assert point["source"] == "ancestor" and point["location"] == "anbar-province"
    assert_fresh(client, monkeypatch)
    write(client, curated, "PATCH", province, {"latitude": 33.5, "longitude": 42.5})
    point = event(client, "habbaniya-air-base-handover-2020-04-04")["coordinates"]
    assert (point["latitude"], point["longitude"]) == (33.5, 42.5)
    assert_fresh(client, monkeypatch)


def test_imports_and_source_deletions_keep_them_fresh(written, curated, monkeypatch):
    client = written
    load_files([*default_files(), BALTIC])
    assert_fresh(client, monkeypatch)
    source = read_bundle(BALTIC)["source"]["id"]
    gone = client.delete(f"/v1/sources/{source}", headers=curated.auth() | {"If-Match": "*"})
    assert gone.status_code in (200, 204), gone.json
    assert_fresh(client, monkeypatch)


def test_a_stale_body_is_rendered_by_the_reader_until_a_write_renders_it(
    written, curated, monkeypatch
):
    client = written
    slug = "ghaani-first-visit-to-iraq-2020-03"
    with database.connection_context(), database.atomic():  # a write that does not refresh
        Event.update(title="Written around the service").where(Event.slug == slug).execute()
    row_id = Event.get(Event.slug == slug).id
    assert stored_bodies()[row_id] is None  # the trigger marked it stale
    assert [e["title"] for e in client.get("/v1/events?limit=500").json if e["id"] == slug] == [
        "Written around the service"
    ]
    assert client.get(f"/v1/events/{slug}").json["title"] == "Written around the service"
    write(client, curated, "PATCH", "/v1/actors/esmail-ghaani", {"title": "Commander"})
    assert_fresh(client, monkeypatch)  # the next write rendered it


def test_a_write_renders_at_most_its_share(written, curated, monkeypatch):
    client = written
    with database.connection_context(), database.atomic():
        EventJson.update(body=None).execute()
        assert EVENT_JSON.refresh(at_most=2) == 2
    assert sum(body is None for body in stored_bodies().values()) == len(stored_bodies()) - 2
    with monkeypatch.context() as built_from_rows:  # the stale ones are served all the same
        pages = {path: client.get(path).data for path in PAGES}
        built_from_rows.setattr(EVENTS, "rendered", None)
        assert pages == {path: client.get(path).data for path in PAGES}
    with database.connection_context(), database.atomic():
        assert EVENT_JSON.refresh(at_most=None) == len(stored_bodies()) - 2
    assert_fresh(client, monkeypatch)


def test_a_populated_schema_can_be_dropped(database_url, seeded_template, tmp_path):
    """Dropping the tables of a database that holds records (tests, benchmarks): SQLite's
    DROP TABLE deletes the rows first, and the cascades fire the triggers that mark records
    stale, which failed once `event_json` was dropped before them."""
    from api.store.db import bind
    from api.store.ddl import create_schema, drop_schema, table_names
    from tests.scratch import scratch_database

    with scratch_database(database_url, tmp_path, "dropped", template=seeded_template) as url:
        bind(url)
        try:
            drop_schema()
            with database.connection_context():
                assert not {"event", "event_json", "actor"} & table_names()
            create_schema()
            with database.connection_context():
                assert Event.select().count() == 0
        finally:
            bind(database_url)


def test_db_upgrade_renders_what_is_left_stale(written, curated, monkeypatch):
    """`briefing db upgrade` (which `make run` runs first) renders every stale record."""
    from click.testing import CliRunner

    from api.cli import cli

    with database.connection_context(), database.atomic():
        EventJson.update(body=None).execute()
    monkeypatch.setenv("DATABASE_URL", curated.url)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"rendered {len(stored_bodies())} stale event record(s)" in result.output
    assert_fresh(written, monkeypatch)
    again = CliRunner().invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and "stale" not in again.output
