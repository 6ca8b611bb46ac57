"""Facets (api/queries/facets.py): bucket counts equal the counts of the lists narrowed to
each bucket, and agree with the seed."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

import pytest

from schemas import vocabularies as vocab
from tests.helpers import assert_problem, fetch_all, queries_for, seed, total, url

EVENT_FILTERS = [
    {},
    {"date_from": "2020-03-01"},
    {"q": "Iraq"},
    {"type": "strategic_developments"},
    {"location": "iraq"},
    {"actor": "us-forces"},
    {"role": "target"},
    {"fatalities_min": "0"},
]
STATEMENT_FILTERS = [
    {},
    {"verbatim": "true"},
    {"q": "Iraq"},
    {"date_to": "2020-04-02"},
    {"channel": "statement"},
    {"speaker": "donald-trump"},
    {"addressed_to": "us-forces"},
]
# The list parameter that narrows a list to one bucket of a facet.
NARROW = {
    "type": "type",
    "sub_type": "sub_type",
    "actor": "actor",
    "location": "location",
    "speaker": "speaker",
    "channel": "channel",
}


def check_facet(client, collection: str, field: str, filters: dict) -> list[dict]:
    response = client.get(url(f"/v1/{collection}/facets", {**filters, "field": field}))
    assert response.status_code == 200, response.json
    buckets = response.json
    records = fetch_all(client, url(f"/v1/{collection}", {**filters, "limit": 500}))
    if field == "month":
        expected = Counter(r["date"][:7] for r in records)
        assert {b["value"]: b["count"] for b in buckets} == expected
        assert [b["value"] for b in buckets] == sorted(expected)
        return buckets
    counts = [b["count"] for b in buckets]
    assert counts == sorted(counts, reverse=True)
    for bucket in buckets:
        if bucket["value"] is None:
            assert bucket["count"] == sum(1 for r in records if r[field] is None)
            continue
        narrowed = {**filters, NARROW[field]: bucket["value"]}
        assert bucket["count"] == total(client, f"/v1/{collection}", narrowed), bucket
        assert bucket["count"] > 0
    if field in ("type", "sub_type", "channel"):
        assert sum(counts) == len(records)
        assert {b["value"] for b in buckets} == {r[field] for r in records}
    return buckets


def facet_cases(fields: list[str], filters: list[dict]) -> list:
    """(field, filters) pairs, leaving out a field's own filter: repeated, a filter means OR,
    so the list could not be narrowed to one bucket of it."""
    return [
        pytest.param(field, f, id=f"{field}-{urlencode(f) or 'none'}")
        for field in fields
        for f in filters
        if NARROW.get(field) not in f
    ]


@pytest.mark.parametrize(
    "field, filters", facet_cases(["type", "sub_type", "month", "actor", "location"], EVENT_FILTERS)
)
def test_event_facets_equal_the_filtered_list_counts(client, field, filters):
    # With role=R, an actor's bucket counts the events it has role R in: actor=X&role=R.
    check_facet(client, "events", field, filters)


@pytest.mark.parametrize(
    "field, filters", facet_cases(["speaker", "channel", "month"], STATEMENT_FILTERS)
)
def test_statement_facets_equal_the_filtered_list_counts(client, field, filters):
    check_facet(client, "statements", field, filters)


def test_facets_agree_with_the_seed(client):
    events, statements = seed()["events"], seed()["statements"]
    got = {b["value"]: b["count"] for b in client.get("/v1/events/facets?field=type").json}
    assert got == Counter(e["type"] for e in events)
    got = {b["value"]: b["count"] for b in client.get("/v1/events/facets?field=actor").json}
    assert got == Counter(a for e in events for a in {p["actor"] for p in e["participants"]})
    got = {b["value"]: b["count"] for b in client.get("/v1/statements/facets?field=speaker").json}
    assert got == Counter(s for st in statements for s in {*st["speakers"], *st["on_behalf_of"]})
    got = {b["value"]: b["count"] for b in client.get("/v1/statements/facets?field=channel").json}
    assert got == Counter(s["channel"] for s in statements)
    got = {b["value"]: b["count"] for b in client.get("/v1/statements/facets?field=month").json}
    assert got == Counter(s["date"].strftime("%Y-%m") for s in statements)


def test_facet_labels_name_actors_and_places(client):
    names = {a["id"]: a["name"] for a in seed()["actors"]}
    for bucket in client.get("/v1/events/facets?field=actor").json:
        assert bucket["label"] == names[bucket["value"]]
    places = {p["id"]: p["name"] for p in seed()["locations"]}
    for bucket in client.get("/v1/events/facets?field=location").json:
        assert bucket["label"] == places.get(bucket["value"])
    for bucket in client.get("/v1/events/facets?field=type").json:
        assert bucket["label"] is None and bucket["value"] in vocab.EVENT_TYPES


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/v1/events/facets", "field"),
        ("/v1/events/facets?field=speaker", "field"),
        ("/v1/events/facets?field=type&limit=5", "limit"),
        ("/v1/events/facets?field=type&cursor=abc", "cursor"),
        ("/v1/events/facets?field=type&sort=date", "sort"),
        ("/v1/events/facets?field=type&format=csv", "format"),
        ("/v1/events/facets?field=type&typ=battles", "typ"),
        ("/v1/events/facets?field=type&type=picnic", "type"),
        ("/v1/events/facets?field=type&actor=nobody-at-all", "actor"),
        ("/v1/statements/facets", "field"),
        ("/v1/statements/facets?field=type", "field"),
        ("/v1/statements/facets?field=speaker&speakr=x", "speakr"),
        ("/v1/statements/facets?field=channel&limit=5", "limit"),
    ],
)
def test_facets_refuse_bad_parameters(client, path, parameter):
    assert_problem(client.get(path), 422, parameter)


def test_facets_route_is_not_taken_for_a_record_id(client):
    # Without `field` the facets route answers 422, not "no event with id 'facets'".
    assert_problem(client.get("/v1/events/facets"), 422, "field")
    assert_problem(client.get("/v1/statements/facets"), 422, "field")
    event = seed()["events"][0]["id"]
    assert client.get(f"/v1/events/{event}").json["id"] == event
    assert isinstance(client.get("/v1/events/facets?field=type").json, list)


def test_facet_query_counts_are_small(client):
    # + 1 each: the data version, which remembered facets are keyed on
    for field in ("type", "sub_type", "month", "actor", "location"):
        assert queries_for(client, f"/v1/events/facets?field={field}") <= 3, field
        assert queries_for(client, f"/v1/events/facets?field={field}&actor=us-forces") <= 4
    # the speaker facet, like the actor facet, reads its actors' names once counted
    assert queries_for(client, "/v1/statements/facets?field=speaker") <= 3
    for field in ("channel", "month"):
        assert queries_for(client, f"/v1/statements/facets?field={field}") <= 2, field


@pytest.mark.parametrize(
    "path, field",
    [("events", "actor"), ("events", "month"), ("statements", "speaker"), ("events", "location")],
)
def test_facet_buckets_keep_the_most_frequent_and_count_all(client, path, field):
    everything = client.get(f"/v1/{path}/facets?field={field}&buckets=1000")
    assert everything.status_code == 200
    total = int(everything.headers["X-Total-Count"])
    assert total == len(everything.json) > 2
    top = client.get(f"/v1/{path}/facets?field={field}&buckets=2")
    assert int(top.headers["X-Total-Count"]) == total
    assert len(top.json) == 2
    most = sorted(b["count"] for b in everything.json)[-2:]
    assert sorted(b["count"] for b in top.json) == most
    assert client.get(f"/v1/{path}/facets?field={field}&buckets=0").status_code == 422


def test_actor_facet_counts_records_once_per_actor(client):
    for path, field in (("events", "actor"), ("statements", "speaker")):
        body = client.get(f"/v1/{path}/facets?field={field}&buckets=500").get_json()
        for bucket in body[:5]:
            param = "actor" if path == "events" else "speaker"
            total = client.get(f"/v1/{path}?{param}={bucket['value']}&limit=1")
            assert int(total.headers["X-Total-Count"]) == bucket["count"], bucket


@pytest.mark.parametrize("filters", ["", "&date_from=2020-04-01", "&channel=statement"])
def test_speaker_facet_counts_every_speaker_as_the_filter_does(client, filters):
    """The speaker facet adds spoken and on-behalf-of statements, each once (counted on
    the link tables): every bucket equals the speaker= list's total."""
    body = client.get(f"/v1/statements/facets?field=speaker&buckets=500{filters}").get_json()
    assert body
    for bucket in body:
        listed = client.get(f"/v1/statements?speaker={bucket['value']}&limit=1{filters}")
        assert int(listed.headers["X-Total-Count"]) == bucket["count"], bucket
