"""One error shape (RFC 9457 problem+json) for every error, never HTML or a stack trace."""

from __future__ import annotations

import pytest

from tests.helpers import located

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"] == "about:blank"
    assert "Traceback" not in response.get_data(as_text=True)
    located(body)  # `errors`: always a list of {path, message}
    return body


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/v1/events?limt=5", "limt"),
        ("/v1/statements?speakr=kataib-hezbollah", "speakr"),
        ("/v1/actors?knd=person", "knd"),
        ("/v1/locations?withn=iraq", "withn"),
        ("/v1/sources?foo=1", "foo"),
    ],
)
def test_unknown_query_parameter_is_refused_by_name(client, url, parameter):
    body = assert_problem(client.get(url), 422)
    assert parameter in body["detail"]
    assert located(body)[f"query.{parameter}"] == ["Unknown field."]


@pytest.mark.parametrize(
    "url, field",
    [
        ("/v1/events?limit=0", "limit"),
        ("/v1/events?limit=501", "limit"),
        ("/v1/events?limit=abc", "limit"),
        ("/v1/events?date_from=2020-13-01", "date_from"),
        ("/v1/events?type=war", "type"),
        ("/v1/events?sort=size", "sort"),
        ("/v1/events?bbox=1,2,3", "bbox"),
        ("/v1/events?bbox=40,35,45,30", "bbox"),
        ("/v1/events?near=95,10", "near"),
        ("/v1/events?radius_km=5", "radius_km"),
        ("/v1/events?fatalities_min=-1", "fatalities_min"),
        ("/v1/events?actor=Not%20A%20Slug", "actor"),
        ("/v1/events?format=xml", "format"),
        ("/v1/statements?verbatim=maybe", "verbatim"),
        ("/v1/statements?channel=fax", "channel"),
        ("/v1/statements?date_from=2020-04-05&date_to=2020-04-01", "date_from"),
        ("/v1/actors?kind=alien", "kind"),
        ("/v1/locations?format=geojson&kind=planet", "kind"),
        ("/v1/actors?q=%00", "q"),
    ],
)
def test_invalid_value_gets_422_with_a_message_for_the_field(client, url, field):
    body = assert_problem(client.get(url), 422)
    assert f"query.{field}" in located(body), body


def test_several_invalid_fields_are_reported_together(client):
    body = assert_problem(client.get("/v1/events?limit=0&type=war"), 422)
    assert {"query.limit", "query.type"} <= set(located(body))


def test_unknown_reference_in_a_filter_is_named(client):
    body = assert_problem(client.get("/v1/events?actor=no-such-actor"), 422)
    assert "no-such-actor" in body["detail"]
    assert "query.actor" in located(body)


@pytest.mark.parametrize("collection", ["events", "statements", "actors", "locations", "sources"])
def test_unknown_id_is_404(client, collection):
    body = assert_problem(client.get(f"/v1/{collection}/no-such-record"), 404)
    assert "no-such-record" in body["detail"]


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/v2/events"), 404)
    assert_problem(client.get("/nowhere"), 404)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_wrong_method_is_405_with_allow(client, method):
    response = getattr(client, method)("/v1/timeline")  # the collections take writes
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_unacceptable_media_type_is_406(client):
    body = assert_problem(client.get("/v1/events", headers={"Accept": "application/xml"}), 406)
    assert "text/csv" in body["detail"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJzIjoiZGF0ZSJ9", "e30", "%00"])
def test_forged_cursor_is_422(client, cursor):
    body = assert_problem(client.get(f"/v1/events?cursor={cursor}"), 422)
    assert "query.cursor" in located(body)


def test_cursor_of_another_sort_is_refused(client):
    from tests.helpers import links

    first = client.get("/v1/events?limit=1")
    cursor = links(first)["next"].split("cursor=")[1]
    assert_problem(client.get(f"/v1/events?limit=1&sort=-date&cursor={cursor}"), 422)


def test_tampered_cursor_value_is_422_not_500(client):
    import base64
    import json

    for key in ["not-a-date", None, 12, "2020-02-30"]:
        raw = json.dumps({"s": "date", "k": key, "i": 1, "d": "next"}).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        assert_problem(client.get(f"/v1/events?cursor={cursor}"), 422)


def test_unexpected_exception_is_a_500_problem_without_trace(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["instance"] == "/boom"


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/v1/events?limit=2&limit=3", "limit"),
        ("/v1/events?format=csv&format=json", "format"),
        ("/v1/events?sort=date&sort=-date", "sort"),
        ("/v1/events?bbox=40,30,45,35&bbox=40,30,45,35", "bbox"),
        ("/v1/statements?verbatim=true&verbatim=false", "verbatim"),
        ("/v1/actors?q=a&q=b", "q"),
        ("/v1/relations?limit=1&limit=1", "limit"),
        ("/v1/locations?near=33,44&near=34,45", "near"),
        ("/v1/sources?cursor=a&cursor=b", "cursor"),
        ("/v1/timeline?sort=date&sort=date", "sort"),
        ("/v1/search?q=a&q=b", "q"),
        ("/v1/events/facets?field=type&field=month", "field"),
        ("/v1/actors/kataib-hezbollah/network?depth=1&depth=2", "depth"),
    ],
)
def test_repeated_single_value_parameter_is_422_naming_it(client, url, parameter):
    body = assert_problem(client.get(url), 422)
    assert f"query.{parameter}" in located(body)
    assert parameter in body["detail"]


def test_repeatable_filters_still_repeat(client):
    response = client.get("/v1/events?actor=kataib-hezbollah&actor=irgc")
    assert response.status_code == 200 and response.json


@pytest.mark.parametrize(
    "path",
    ["/v1/search", "/v1/timeline", "/v1/events", "/v1/statements", "/v1/events/facets"],
)
def test_q_over_the_word_cap_is_422_naming_q(client, path):
    from schemas.arguments import MAX_QUERY_TERMS

    extra = "&field=type" if "facets" in path else ""
    words = "+".join(["a"] * 250)
    body = assert_problem(client.get(f"{path}?q={words}{extra}"), 422)
    assert "query.q" in located(body)
    assert str(MAX_QUERY_TERMS) in body["detail"]
    at_cap = "+".join(["a"] * MAX_QUERY_TERMS)
    assert client.get(f"{path}?q={at_cap}{extra}").status_code == 200


def test_no_free_database_connection_is_a_503(make_app, database_url):
    """More requests at once than DB_POOL_SIZE (greenlets are many): one that waited its time
    for a connection is a 503 with Retry-After, not a 500."""
    import threading

    from api.store.db import database

    app = make_app(DB_POOL_SIZE=1)
    pool = database.obj
    pool._wait_timeout = 0.2  # peewee's pool wait, 10 s in service
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.connection_context():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        response = app.test_client().get("/v1/events?limit=1")
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Retry-After" in response.headers
    assert app.test_client().get("/v1/events?limit=1").status_code == 200


# ---------------------------------------------------------------- the one shape, every kind


def test_a_request_validation_error_lists_path_and_message(client):
    body = assert_problem(client.get("/v1/events?limit=0&limt=5&type=war"), 422)
    assert isinstance(body["errors"], list)
    paths = located(body)
    assert set(paths) == {"query.limit", "query.limt", "query.type"}
    assert paths["query.limt"] == ["Unknown field."]
    # the detail stays one sentence naming them
    assert body["detail"].startswith("Invalid request. ") and "'limt'" in body["detail"]


def test_a_list_parameter_item_is_named_by_its_parameter(client):
    body = assert_problem(client.get("/v1/events?ids=rocket,Not%20A%20Slug"), 422)
    assert list(located(body)) == ["query.ids"]


@pytest.mark.parametrize(
    "url, status",
    [("/nowhere", 404), ("/v1/events/no-such-event", 404), ("/v1/timeline", 405)],
)
def test_a_problem_without_one_location_has_an_empty_list(client, url, status):
    method = "post" if status == 405 else "get"
    body = assert_problem(getattr(client, method)(url), status)
    assert body["errors"] == []


def test_an_unexpected_error_has_the_shape_too(make_app):
    app = make_app()

    @app.get("/boom-shape")
    def boom():
        raise RuntimeError("internals")

    body = assert_problem(app.test_client().get("/boom-shape"), 500)
    assert body["errors"] == []


def test_a_rate_limited_client_gets_the_shape(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="1/minute").test_client()
    assert client.get("/v1/sources").status_code == 200
    body = assert_problem(client.get("/v1/sources"), 429)
    assert body["errors"] == []


def auth(curated, scope: str = "write") -> dict[str, str]:
    return curated.auth(scope)


def test_a_write_without_a_key_or_scope_has_the_shape(curated):
    client = curated.app.test_client()
    assert assert_problem(client.post("/v1/actors", json={}), 401)["errors"] == []
    refused = client.post("/v1/actors", json={}, headers=auth(curated, "read"))
    assert assert_problem(refused, 403)["errors"] == []


def test_a_repeated_import_parameter_is_a_located_422(curated):
    client = curated.app.test_client()
    response = client.post(
        "/v1/briefings?dry_run=null&dry_run=null", json={}, headers=auth(curated)
    )
    body = assert_problem(response, 422)
    assert "query.dry_run" in located(body)


def test_a_refused_bundle_lists_its_problems_by_path(curated):
    client = curated.app.test_client()
    response = client.post("/v1/briefings", json={"source": {}}, headers=auth(curated))
    body = assert_problem(response, 422)
    paths = located(body)
    assert paths and all(not p.startswith("json") for p in paths)  # bundle-relative paths
    assert any(p.startswith("source") for p in paths), paths
    broken = client.post(
        "/v1/briefings", data="{", content_type="application/json", headers=auth(curated)
    )
    assert located(assert_problem(broken, 422))[""][0].startswith("Not valid JSON")


def test_a_refused_record_write_lists_its_problems_by_path(curated):
    client = curated.app.test_client()
    body = {"id": "x-actor", "name": "X", "kind": "alien", "citations": []}
    response = client.post("/v1/actors", json=body, headers=auth(curated))
    assert "kind" in located(assert_problem(response, 422))


def test_a_delete_others_refer_to_is_a_409_naming_each_referring_record(curated):
    client = curated.app.test_client()
    path = "/v1/actors/kataib-hezbollah"
    etag = client.get(path).headers["ETag"]
    response = client.delete(path, headers=auth(curated) | {"If-Match": etag})
    body = assert_problem(response, 409)
    referrers = located(body)
    assert len(referrers) > 1
    for where, [message] in referrers.items():
        assert where.startswith("/v1/") and where.split("/")[-1] in message
        assert client.get(where).status_code == 200, where  # a record that exists
    assert client.get(path).status_code == 200


def test_creating_an_existing_record_is_a_409_with_the_shape(curated):
    client = curated.app.test_client()
    record = client.get("/v1/actors/kataib-hezbollah").json
    body = {"id": "kataib-hezbollah", "name": record["name"], "kind": record["kind"]}
    body["citations"] = [
        {"source": c["source"]["id"], "excerpt": c["excerpt"]} for c in record["citations"]
    ]
    assert assert_problem(client.post("/v1/actors", json=body, headers=auth(curated)), 409)


@pytest.mark.parametrize("if_match, status", [(None, 428), ('"v999999"', 412)])
def test_a_conditional_write_refused_has_the_shape(curated, if_match, status):
    client = curated.app.test_client()
    headers = auth(curated) | {"Content-Type": "application/merge-patch+json"}
    if if_match:
        headers["If-Match"] = if_match
    response = client.patch("/v1/actors/kataib-hezbollah", data="{}", headers=headers)
    assert assert_problem(response, status)["errors"] == []


def test_an_if_match_naming_no_version_is_a_412_before_the_body_is_read(curated):
    """RFC 9110 §13.2.2: the precondition first; an unreadable body does not make it a 422."""
    client = curated.app.test_client()
    headers = auth(curated) | {
        "Content-Type": "application/merge-patch+json",
        "If-Match": "not-an-etag",
    }
    response = client.patch("/v1/actors/kataib-hezbollah", data="{", headers=headers)
    assert assert_problem(response, 412)["errors"] == []
    headers.pop("If-Match")
    assert_problem(client.patch("/v1/actors/kataib-hezbollah", data="{", headers=headers), 428)


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/v1/events?limit=%C2%A02", "limit"),  # a no-break space before the digits
        ("/v1/events?limit=2%20", "limit"),
        ("/v1/events?limit=1_0", "limit"),  # Python's int() reads 10
        ("/v1/changes?since=%202", "since"),
        ("/v1/events?fatalities_min=%091", "fatalities_min"),
        ("/v1/events?near=33.3,44.4&radius_km=%205", "radius_km"),
        ("/v1/events?near=33.3,44.4&radius_km=1_0", "radius_km"),
    ],
)
def test_a_number_is_written_as_one(client, url, parameter):
    """A number parameter is digits (and a sign, a point, an exponent), nothing around them: a
    value that Python alone would read (spaces, underscores) is refused, never reinterpreted."""
    body = assert_problem(client.get(url), 422)
    assert f"query.{parameter}" in located(body)


@pytest.mark.parametrize(
    "url",
    ["/v1/events?limit=2", "/v1/events?limit=%2B2", "/v1/events?near=33.3,44.4&radius_km=2.5e1"],
)
def test_numbers_as_written_are_read(client, url):
    assert client.get(url).status_code == 200
