"""CSV that round-trips: list cells as JSON arrays, formulas defused, citations with their
source, one naming for coordinates, an optional BOM, and a download filename."""

from __future__ import annotations

import csv
import io
import json

from api.http.tables import columns, to_csv
from schemas.records import ActorSchema, citation_cell


def table(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_list_cells_split_exactly_as_the_json(client):
    actors = client.get("/v1/actors?limit=500").json
    rows = {row["id"]: row for row in table(client.get("/v1/actors?limit=500&format=csv"))}
    for actor in actors:
        assert json.loads(rows[actor["id"]]["aliases"]) == [a["name"] for a in actor["aliases"]]


def test_an_alias_with_the_old_separator_stays_one_cell():
    record = {"id": "esmail-ghaani", "aliases": [{"name": "Ghaani; Esmail"}, {"name": "قاآنی"}]}
    [row] = list(csv.DictReader(io.StringIO(to_csv([record], ActorSchema()))))
    assert json.loads(row["aliases"]) == ["Ghaani; Esmail", "قاآنی"]


def test_formulas_are_defused_and_numbers_are_not():
    record = {
        "id": "x",
        "name": '=HYPERLINK("http://evil","click")',
        "title": "+1 555",
        "description": "@SUM(A1)",
        "country": "-IQ",
        "aliases": [{"name": "=cmd|' /C calc'!A0"}],
    }
    [row] = list(csv.DictReader(io.StringIO(to_csv([record], ActorSchema()))))
    assert row["name"] == '\'=HYPERLINK("http://evil","click")'
    assert row["title"] == "'+1 555" and row["description"] == "'@SUM(A1)"
    assert row["country"] == "'-IQ"
    assert row["aliases"].startswith("[")  # a JSON array is never a formula
    location = {"id": "y", "latitude": -33.5, "longitude": -70.6}
    from schemas.records import LocationSchema

    [place] = list(csv.DictReader(io.StringIO(to_csv([location], LocationSchema()))))
    assert place["latitude"] == "-33.5" and place["longitude"] == "-70.6"


def test_citations_keep_their_source_id(client):
    events = client.get("/v1/events?limit=500").json
    rows = {row["id"]: row for row in table(client.get("/v1/events?limit=500&format=csv"))}
    for event in events:
        cells = json.loads(rows[event["id"]]["citations"])
        assert cells == [citation_cell(c) for c in event["citations"]]
        assert all(
            cell.split(": ", 1)[0] == c["source"]["id"]
            for cell, c in zip(cells, event["citations"], strict=True)
        )


def test_events_and_locations_name_coordinates_alike(client):
    event_columns = list(table(client.get("/v1/events?format=csv&limit=1"))[0])
    location_columns = list(table(client.get("/v1/locations?format=csv&limit=1"))[0])
    for name in ("latitude", "longitude", "coordinate_precision"):
        assert name in event_columns and name in location_columns
    assert not [c for c in event_columns if c.startswith("coordinates_")]
    events = client.get("/v1/events?limit=500").json
    rows = {row["id"]: row for row in table(client.get("/v1/events?limit=500&format=csv"))}
    for event in events:
        if event["coordinates"]:
            assert float(rows[event["id"]]["latitude"]) == event["coordinates"]["latitude"]
        assert rows[event["id"]]["location_id"] == ((event["location"] or {}).get("id") or "")


def test_bom_on_request_and_a_download_filename(client):
    plain = client.get("/v1/actors?format=csv")
    assert not plain.data.startswith(b"\xef\xbb\xbf")
    assert plain.headers["Content-Disposition"] == 'attachment; filename="actors.csv"'
    excel = client.get("/v1/actors?format=csv&bom=true&limit=500")
    assert excel.data.startswith(b"\xef\xbb\xbfid,")
    assert "كتائب حزب الله" in excel.data.decode("utf-8-sig")


def test_columns_follow_the_schema():
    assert list(columns(ActorSchema()))[:4] == ["id", "name", "kind", "title"]


def test_line_breaks_and_separators_stay_inside_their_cell():
    """RFC 4180: a bare CR, a LF, a comma or a quote is quoted, so no cell starts a row."""
    texts = ["Harmless text\r=cmd|' /C calc'!A0", "two\nlines", "a, b", 'say "hi"', "\n\n"]
    records = [{"id": f"x{n}", "description": text} for n, text in enumerate(texts)]
    written = to_csv(records, ActorSchema())
    rows = list(csv.reader(io.StringIO(written, newline="")))
    assert len(rows) == 1 + len(texts)
    description = rows[0].index("description")
    assert [row[description] for row in rows[1:]] == texts
    assert written.count("\r\n") == len(rows)  # row ends only
    assert '"Harmless text\r=cmd' in written


def test_the_formula_guard_looks_past_leading_blanks():
    texts = ["  =1+1", "\n=cmd|' /C calc'!A0", "\r\n@SUM(A1)", "\t-2", "\u00a0+1", "plain - text"]
    records = [{"id": f"x{n}", "description": text} for n, text in enumerate(texts)]
    rows = list(csv.DictReader(io.StringIO(to_csv(records, ActorSchema()), newline="")))
    assert [row["description"] for row in rows] == ["'" + t for t in texts[:-1]] + [texts[-1]]


def test_a_curated_description_with_a_cr_is_one_row_over_http(curated):
    client = curated.app.test_client()
    etag = client.get("/v1/actors/kataib-hezbollah").headers["ETag"]
    text = "Harmless text\r=cmd|' /C calc'!A0"
    patched = client.patch(
        "/v1/actors/kataib-hezbollah",
        data=json.dumps({"description": text}),
        headers=curated.auth() | {"If-Match": etag, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.json
    response = client.get("/v1/actors?ids=kataib-hezbollah&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert [row["description"] for row in rows] == [text]
