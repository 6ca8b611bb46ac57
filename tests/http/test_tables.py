"""Flat records (CSV, GeoJSON properties) are driven by the response schema: unit tests of
api/http/tables.py."""

from __future__ import annotations

import csv
import io
import json

import marshmallow as ma
from marshmallow import fields

from api.http.tables import columns as csv_columns
from api.http.tables import to_csv
from schemas.records import EventSchema, citation_cell


class RefSchema(ma.Schema):
    id = fields.String()
    name = fields.String()


class PairSchema(ma.Schema):
    CSV_CELL = "{who[id]}/{what}"

    who = fields.Nested(RefSchema)
    what = fields.String()


class PointSchema(ma.Schema):
    lat = fields.Float()
    lon = fields.Float()


class RecordSchema(ma.Schema):
    id = fields.String()
    flag = fields.Boolean(allow_none=True)
    ref = fields.Nested(RefSchema, allow_none=True)
    refs = fields.List(fields.Nested(RefSchema))
    pairs = fields.List(fields.Nested(PairSchema))
    point = fields.Nested(PointSchema, allow_none=True)


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_columns_follow_the_schema_and_spread_plain_objects():
    assert list(csv_columns(RecordSchema())) == [
        "id",
        "flag",
        "ref_id",
        "ref_name",
        "refs",
        "pairs",
        "point_lat",
        "point_lon",
    ]


def test_cells_are_written_as_the_schema_says():
    record = {
        "id": "r1",
        "flag": False,
        "ref": {"id": "a", "name": "A"},
        "refs": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}],
        "pairs": [{"who": {"id": "x", "name": "X"}, "what": "y"}],
        "point": {"lat": 1.5, "lon": -2.0},
    }
    [row] = rows(to_csv([record], RecordSchema()))
    assert row == {
        "id": "r1",
        "flag": "false",
        "ref_id": "a",
        "ref_name": "A",
        "refs": '["a", "b"]',
        "pairs": '["x/y"]',
        "point_lat": "1.5",
        "point_lon": "-2.0",
    }


def test_missing_and_null_values_are_empty_cells():
    [row] = rows(to_csv([{"id": "r2", "flag": None, "ref": None, "point": None}], RecordSchema()))
    assert row == {k: "" for k in row} | {"id": "r2", "refs": "[]", "pairs": "[]"}


def test_a_key_outside_the_schema_is_never_written():
    text = to_csv([{"id": "r3", "secret": "x"}], RecordSchema())
    assert "secret" not in text and "x" not in text.split("\n", 1)[1]


def test_event_csv_over_http_matches_the_json(client):
    events = client.get("/v1/events?limit=500").json
    body = client.get("/v1/events?limit=500&format=csv").get_data(as_text=True)
    table = rows(body)
    assert [row["id"] for row in table] == [event["id"] for event in events]
    assert list(table[0]) == list(csv_columns(EventSchema()))
    for row, event in zip(table, events, strict=True):
        expected = [f"{p['actor']['id']}:{p['role']}" for p in event["participants"]]
        assert json.loads(row["participants"]) == expected
        assert row["location_id"] == (event["location"] or {}).get("id", "")
        assert json.loads(row["citations"]) == [citation_cell(c) for c in event["citations"]]
