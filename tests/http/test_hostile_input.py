"""Hardening, second round, over HTTP on both backends: bodies over the limit whatever their
framing, imports that fail half-way, control characters in text and ids, deep nesting."""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3

import pytest
import yaml

from api.ingest import default_files
from api.ingest.read import read_file
from tests.helpers import assert_problem

SEED_ID = "al-monitor-2020-04-07-us-iran-showdown-iraq"


def seed_yaml() -> tuple[bytes, int]:
    """The seed bundle as YAML, its statements last and one more at the end (a copy of the
    first), and the offset where that one starts: the bytes before it are the seed bundle."""
    raw = read_file(default_files()[0]).raw
    raw["source"].pop("document", None)
    statements = raw.pop("statements")
    statements.append({**statements[0], "id": "one-statement-more"})
    head = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True) + "statements:\n"
    items = [yaml.safe_dump([s], sort_keys=False, allow_unicode=True) for s in statements]
    body = (head + "".join(items)).encode()
    return body, len(body) - len(items[-1].encode())


def chunked(client, path: str, body: bytes, headers: dict):
    """A POST whose body has no Content-Length, as gunicorn hands a chunked one to the app."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked", **headers},
    )


def written(client) -> tuple:
    """What a write would change: the statements and the change feed's length."""
    statements = client.get("/v1/statements?limit=1").headers["X-Total-Count"]
    changes = client.get("/v1/changes?since=0&limit=1").headers["X-Total-Count"]
    return statements, changes


def test_a_chunked_body_over_the_limit_is_413_and_nothing_is_written(curated, make_app):
    body, cut = seed_yaml()
    app = make_app(curated.url, MAX_CONTENT_LENGTH=cut)  # the limit falls on the last statement
    client = app.test_client()
    before = written(client)
    headers = curated.auth() | {"Content-Type": "application/yaml"}
    response = chunked(client, "/v1/briefings", body, headers)
    assert_problem(response, 413)
    assert written(client) == before
    assert client.get(f"/v1/sources/{SEED_ID}").json["counts"]["statements"] == int(before[0])
    within = chunked(client, "/v1/briefings", body[:cut], headers)  # the limit itself is fine
    assert within.status_code == 201, within.json


def test_a_chunked_record_write_over_the_limit_is_413(curated, make_app):
    client = make_app(curated.url, MAX_CONTENT_LENGTH=100).test_client()
    body = b'{"id": "x", "name": "' + b"n" * 200 + b'"}'
    headers = curated.auth() | {"Content-Type": "application/json"}
    assert_problem(chunked(client, "/v1/actors", body, headers), 413)
    assert client.get("/v1/actors/x").status_code == 404


def test_an_import_is_not_stopped_half_way_by_the_read_budget(curated, make_app, database_url):
    """The request's database budget bounds reads; an import over it is not cut off."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's budget bounds each statement: 1 ms stops the key's lookup")
    client = make_app(curated.url, QUERY_TIMEOUT_MS=1).test_client()
    body, _ = seed_yaml()
    body = body.replace(b"first fruit", b"first fruits")  # something to write
    headers = curated.auth() | {"Content-Type": "application/yaml"}
    response = client.post("/v1/briefings", data=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_an_import_sqlite_rolls_back_itself_is_refused_whole(
    curated, database_url, monkeypatch, caplog
):
    """A write SQLite interrupts ends its transaction on its own: the import is a 503 that
    names the cause in the log (not "cannot rollback"), and nothing of it is kept."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own rollback of an interrupted write")
    from api.ingest.write import Writer
    from api.store.db import database

    statement = Writer.statement
    seen = []

    def interrupted(self, data, bundle):
        seen.append(data["id"])
        if len(seen) == 3:  # two statements written, the third stopped as SQLite stops one
            database.connection().rollback()  # an interrupted write ends its transaction
            raise sqlite3.OperationalError("interrupted")
        return statement(self, data, bundle)

    monkeypatch.setattr(Writer, "statement", interrupted)
    client = curated.app.test_client()
    before = written(client)
    body, _ = seed_yaml()
    body = body.replace(b"first fruit", b"first fruits")  # changes the statements
    headers = curated.auth() | {"Content-Type": "application/yaml"}
    with caplog.at_level(logging.WARNING):
        response = client.post("/v1/briefings", data=body, headers=headers)
    assert_problem(response, 503)
    assert "cannot rollback" not in caplog.text
    assert "interrupted" in caplog.text
    monkeypatch.undo()
    assert written(client) == before
    assert client.post("/v1/briefings", data=body, headers=headers).status_code == 201


def test_a_budget_stopped_read_from_the_driver_is_503_not_500(make_app, database_url):
    """A query stopped while its rows are fetched raises the driver's own error: a 503."""
    client = make_app(QUERY_TIMEOUT_MS=1).test_client()
    response = client.get("/v1/events?limit=500&q=iraq")
    assert response.status_code in (200, 503)
    if response.status_code == 503:
        assert_problem(response, 503)
        assert re.match(r"\d+", response.headers["Retry-After"])


# ---------------------------------------------------------------- control characters

EXCERPT = "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves by the"


def actor(**fields) -> dict:
    return {
        "id": "mohyee-office",
        "name": "Office of Mohammad Mohyee",
        "kind": "organization",
        "citations": [{"source": SEED_ID, "excerpt": EXCERPT}],
        **fields,
    }


@pytest.mark.parametrize(
    "path",
    [
        "/v1/actors/%00",
        "/v1/sources/%00/text",
        "/v1/sources/%00",
        "/v1/events/kataib%01",
        "/v1/actors/kataib-hezbollah%00/network",
    ],
)
def test_a_control_character_in_a_path_id_is_404(client, path):
    assert_problem(client.get(path), 404)


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/v1/actors?q=a%00b", "q"),
        ("/v1/events?actor=%00", "actor"),
        ("/v1/statements?date_from=2020%1b", "date_from"),
        ("/v1/changes?since=%00", "since"),
        ("/v1/search?q=%C2%85", "q"),  # U+0085, a C1 control
    ],
)
def test_a_control_character_in_a_query_parameter_is_422_naming_it(client, path, parameter):
    assert_problem(client.get(path), 422, parameter)


def test_the_audit_filter_is_checked_before_the_database(curated):
    client = curated.app.test_client()
    response = client.get("/v1/audit?key=%00", headers=curated.auth("admin"))
    assert_problem(response, 422, "key")


def test_a_control_character_in_a_record_write_is_422_naming_the_field(curated):
    client = curated.app.test_client()
    response = client.post(
        "/v1/actors", json=actor(name="Office\u0000 of Mohyee"), headers=curated.auth()
    )
    body = assert_problem(response, 422)
    assert [e["path"] for e in body["errors"]] == ["name"], body
    assert "U+0000" in body["errors"][0]["message"]
    aliases = actor(aliases=[{"name": "ok"}, {"name": "bell\u0007"}])
    body = assert_problem(client.post("/v1/actors", json=aliases, headers=curated.auth()), 422)
    assert [e["path"] for e in body["errors"]] == ["aliases[1].name"], body
    assert client.get("/v1/actors/mohyee-office").status_code == 404
    lines = actor(description="Two lines,\nand a\ttab.\r\n")  # text keeps its layout
    created = client.post("/v1/actors", json=lines, headers=curated.auth())
    assert created.status_code == 201, created.json
    patch = client.patch(
        "/v1/actors/mohyee-office",
        data='{"description": "a C1 \\u0085 control"}',
        headers=curated.auth()
        | {"If-Match": created.headers["ETag"], "Content-Type": "application/merge-patch+json"},
    )
    body = assert_problem(patch, 422)
    assert [e["path"] for e in body["errors"]] == ["description"], body
    assert client.get("/v1/actors/mohyee-office").json["description"] == lines["description"]


def test_a_control_character_in_a_bundle_is_422_naming_the_field(curated):
    client = curated.app.test_client()
    before = written(client)
    body, _ = seed_yaml()
    raw = yaml.safe_load(body)
    raw["statements"][2]["text"] += "\u0000"
    raw["source"]["title"] = "\x1b[31m" + raw["source"]["title"]
    response = client.post("/v1/briefings", json=raw, headers=curated.auth())
    problems = assert_problem(response, 422)["errors"]
    assert {p["path"] for p in problems} == {"source.title", "statements[2].text"}, problems
    assert written(client) == before


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize(
    "body, media",
    [
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ('{"a":' * 50_000 + "1" + "}" * 50_000, "application/json"),
        ("[" * 50_000, "application/yaml"),
        ("a:\n" + "".join("  " * n + f"k{n}:\n" for n in range(1, 40)), "application/yaml"),
        ("[" * 21 + "]" * 21, "application/json"),
    ],
    ids=["json lists", "json objects", "yaml flow", "yaml block", "json one level too deep"],
)
def test_nesting_deeper_than_the_bound_is_422(curated, body, media):
    from api.ingest import MAX_NESTING

    client = curated.app.test_client()
    headers = curated.auth() | {"Content-Type": media}
    response = client.post("/v1/briefings", data=body, headers=headers)
    problems = assert_problem(response, 422)["errors"]
    assert f"Nested deeper than {MAX_NESTING} levels" in problems[0]["message"], problems
    record = client.post(
        "/v1/actors", data=body, headers=headers | {"Content-Type": "application/json"}
    )
    assert_problem(record, 422)


def test_brackets_in_text_are_not_nesting(curated):
    client = curated.app.test_client()
    body, _ = seed_yaml()
    raw = yaml.safe_load(body)
    raw["actors"][0]["description"] = "[{" * 100 + " (editorial brackets) " + "}]" * 100
    for media, data in [
        ("application/json", json.dumps(raw)),
        ("application/yaml", yaml.safe_dump(raw, allow_unicode=True)),
    ]:
        response = client.post(
            "/v1/briefings", data=data, headers=curated.auth() | {"Content-Type": media}
        )
        assert response.status_code == 201, response.json
