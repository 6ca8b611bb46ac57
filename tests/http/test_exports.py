"""`fields=`, `ids=` and `format=ndjson` on every list."""

from __future__ import annotations

import json

import pytest

from tests.helpers import located, seed

COLLECTIONS = ["events", "statements", "actors", "relations", "locations", "sources"]


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_ndjson_streams_every_record_without_paging(client, collection):
    response = client.get(f"/v1/{collection}?format=ndjson&limit=1")
    assert response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == int(response.headers["X-Total-Count"]) == len(seed()[collection])
    assert "Link" not in response.headers
    first = client.get(f"/v1/{collection}?limit=1").json[0]
    assert records[0] == first
    assert response.headers["Content-Disposition"] == f'attachment; filename="{collection}.ndjson"'


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_ndjson_lines_are_the_items_of_the_json_list(client, collection):
    """Each line is written as the JSON list writes its record (events: their kept JSON)."""
    lines = client.get(f"/v1/{collection}?format=ndjson").get_data(as_text=True).splitlines()
    listed = client.get(f"/v1/{collection}?limit=500").get_data(as_text=True)
    assert lines and "[" + ",".join(lines) + "]" == listed


def test_ndjson_honours_filters_and_accept(client):
    filtered = client.get(
        "/v1/events?actor=kataib-hezbollah", headers={"Accept": "application/x-ndjson"}
    )
    ids = [json.loads(line)["id"] for line in filtered.get_data(as_text=True).splitlines()]
    assert ids == [e["id"] for e in client.get("/v1/events?actor=kataib-hezbollah&limit=500").json]


def test_fields_choose_top_level_fields_in_every_format(client):
    records = client.get("/v1/events?fields=title,date&limit=3").json
    assert records and all(list(r) == ["id", "title", "date"] for r in records)
    header = client.get("/v1/events?fields=title&fields=date&format=csv").get_data(as_text=True)
    assert header.splitlines()[0] == "id,title,date"
    body = client.get("/v1/locations?fields=name&format=geojson").get_json(force=True)
    feature = body["features"][0]
    assert feature["geometry"] is not None and "name" in feature["properties"]
    assert "aliases" not in feature["properties"]
    line = client.get("/v1/actors?fields=name&format=ndjson").get_data(as_text=True).splitlines()[0]
    assert list(json.loads(line)) == ["id", "name"]
    bad = client.get("/v1/events?fields=secret")
    assert bad.status_code == 422 and "query.fields" in located(bad.json)


@pytest.mark.parametrize(
    "collection, chosen",
    [("events", "title"), ("actors", "name"), ("sources", "url"), ("relations", "predicate")],
)
def test_fields_may_name_id_which_is_always_returned(client, collection, chosen):
    for query in (f"id,{chosen}", f"{chosen},id", f"id&fields={chosen}"):
        response = client.get(f"/v1/{collection}?fields={query}&limit=2")
        assert response.status_code == 200, response.json
        assert [list(r) for r in response.json] == [["id", chosen]] * 2
    only_id = client.get(f"/v1/{collection}?fields=id&limit=2")
    assert [list(r) for r in only_id.json] == [["id"]] * 2
    header = client.get(f"/v1/{collection}?fields=id,{chosen}&format=csv").get_data(as_text=True)
    assert header.splitlines()[0] == f"id,{chosen}"


def test_ids_fetch_many_records_in_one_call(client):
    wanted = ["kataib-hezbollah", "iran", "esmail-ghaani"]
    got = client.get("/v1/actors?ids=" + ",".join(wanted)).json
    assert sorted(r["id"] for r in got) == sorted(wanted)
    repeated = client.get("/v1/actors?ids=kataib-hezbollah&ids=iran&ids=no-such-actor").json
    assert sorted(r["id"] for r in repeated) == ["iran", "kataib-hezbollah"]
    combined = client.get("/v1/actors?ids=kataib-hezbollah,iran&kind=state").json
    assert [r["id"] for r in combined] == ["iran"]
    relation = "esmail-ghaani--commands--quds-force"
    assert [r["id"] for r in client.get(f"/v1/relations?ids={relation}").json] == [relation]
    assert client.get("/v1/actors?ids=Not%20An%20Id").status_code == 422


def test_facets_take_no_export_parameters(client):
    for parameter in ("ids=iran", "fields=title", "bom=true"):
        response = client.get(f"/v1/events/facets?field=type&{parameter}")
        assert response.status_code == 422, parameter


@pytest.mark.parametrize(
    "query",
    [
        "/v1/stix?type=",
        "/v1/stix?type=incident,",
        "/v1/stix?type=%20",
        "/v1/events?fields=title,,date",
        "/v1/events/aggregate?group_by=month,",
    ],
)
def test_an_empty_item_of_a_comma_list_is_refused(client, query):
    """`type=` (or a trailing comma) names nothing: a 422 saying so, never silently no filter
    (schemathesis found `/v1/stix?type=` answered with every object)."""
    response = client.get(query)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "empty" in response.get_data(as_text=True)
