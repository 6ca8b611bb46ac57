"""schemas/fastdump.py writes exactly what marshmallow's `Schema.dump` writes: every
response dumped through a schema, for every collection (lists and each record), every analyst
view and the probes, is dumped both ways here and compared, key order included; records a
loader built as dumped (`fastdump.Dumped`) are compared as the bytes they are written as."""

from __future__ import annotations

import datetime as dt
import json

import marshmallow as ma
import orjson
import pytest
from marshmallow import fields

from api.queries.events import EVENTS
from schemas import fastdump

COLLECTIONS = ("events", "statements", "actors", "relations", "locations", "sources")


@pytest.fixture
def compared(client, monkeypatch):
    """Every fast dump is checked against marshmallow's; yields the list of checked schemas."""
    seen: list[str] = []
    fast = fastdump.dump

    def checked(schema, obj, many=None):
        ours = fast(schema, obj, many)
        theirs = fastdump.marshmallow_dump(schema, obj, many=many)
        if type(ours) in (fastdump.Written, fastdump.WrittenRecord):  # compared below
            seen.append(f"Written {type(schema).__name__}")
            return ours
        if type(ours) is fastdump.Dumped:  # written as they are: the same bytes
            assert fastdump.as_json(ours) == orjson.dumps(theirs), type(schema).__name__
            seen.append(f"Dumped {type(schema).__name__}")
        else:
            assert json.dumps(ours) == json.dumps(theirs), type(schema).__name__
        seen.append(type(schema).__name__)
        return ours

    monkeypatch.setattr(fastdump, "dump", checked)
    return seen


def paths(client) -> list[str]:
    found = [f"/v1/{name}?limit=500" for name in COLLECTIONS]
    for name in COLLECTIONS:
        for record in client.get(f"/v1/{name}?limit=500").get_json():
            found.append(f"/v1/{name}/{record['id']}")
    actor = client.get("/v1/actors?limit=1").get_json()[0]["id"]
    found += [
        "/v1/events?near=33.31,44.36&radius_km=500&sort=distance",
        "/v1/locations?near=33.31,44.36&radius_km=500",
        "/v1/events?q=rocket",
        "/v1/events?fields=title,date",
        "/v1/timeline",
        "/v1/timeline?sort=-date",
        "/v1/search?q=iraq",
        "/v1/events/facets?field=type",
        "/v1/events/facets?field=actor",
        "/v1/statements/facets?field=speaker",
        f"/v1/actors/{actor}/network?depth=2",
        "/v1/vocabularies",
        "/healthz",
    ]
    return found


@pytest.fixture
def not_rendered(monkeypatch):
    """Event pages built from their rows, as if no record were kept rendered."""
    monkeypatch.setattr(EVENTS, "rendered", None)


def test_every_response_dumps_as_marshmallow_does(client, compared, not_rendered):
    for path in paths(client):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_json())
    names = set(compared)
    for schema in ("EventSchema", "StatementSchema", "ActorSchema", "LocationSchema"):
        assert schema in names
    # the lists whose loaders build records as dumped (Collection.records_as_dumped)
    assert {"Dumped EventSchema", "Dumped StatementSchema"} <= names
    assert len(names) >= 10, names


def test_rendered_pages_are_the_bytes_of_the_dumped_ones(client, compared, monkeypatch):
    """Event pages joined from the records' rendered JSON (api/queries/rendered.py) are byte for
    byte the pages built from their rows, which the test above compares with marshmallow."""
    event_paths = [path for path in paths(client) if path.startswith("/v1/events")]
    event_paths += ["/v1/events?q=rocket&sort=date", "/v1/events?limit=3&sort=-title"]
    rendered = {path: client.get(path) for path in event_paths}
    assert "Written EventSchema" in compared
    monkeypatch.setattr(EVENTS, "rendered", None)
    for path, response in rendered.items():
        built = client.get(path)
        assert response.status_code == built.status_code == 200, path
        assert response.data == built.data, path
        assert response.headers["ETag"] == built.headers["ETag"], path


class Inner(ma.Schema):
    when = fields.Date()
    count = fields.Integer(allow_none=True)


class Odd(ma.Schema):
    text = fields.String()
    number = fields.Float()
    flag = fields.Boolean()
    renamed = fields.String(data_key="shown")
    defaulted = fields.String(dump_default="x")
    inner = fields.Nested(Inner, allow_none=True)
    many = fields.List(fields.Nested(Inner))
    plain_list = fields.List(fields.String())
    method = fields.Method("twice")

    def twice(self, obj):
        return obj["text"] * 2


@pytest.mark.parametrize(
    "record",
    [
        {"text": "a", "number": 1, "flag": 1, "renamed": 5, "inner": None, "many": []},
        {"text": 3, "number": 1.5, "flag": True, "inner": {"when": dt.date(2020, 1, 2)}},
        {"text": "é", "many": [{"when": dt.datetime(2020, 1, 2, 3, 4), "count": True}]},
        {"text": "b", "plain_list": ["x", 1], "unknown": 1},
    ],
)
def test_unusual_values_dump_as_marshmallow_does(record):
    for schema in (Odd(), Odd(only=("text", "inner")), Odd(exclude=("method",))):
        assert fastdump.dump(schema, record) == fastdump.marshmallow_dump(schema, record)
        assert list(fastdump.dump(schema, record)) == list(
            fastdump.marshmallow_dump(schema, record)
        )
