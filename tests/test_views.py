"""The analyst views over HTTP: timeline, actor network, search, facets, vocabularies, and what
a source detail says was extracted from it. Expectations come from the seed YAML or from the
list endpoints with the same filters, never from hard-coded counts."""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from urllib.parse import urlencode

import pytest

from api.db import database
from api.importer import default_files, read_bundle
from schemas import vocabularies as vocab
from tests.helpers import fetch_all, ids, links, seed

PROBLEM = "application/problem+json"
PLURAL = {
    "actor": "actors",
    "event": "events",
    "statement": "statements",
    "location": "locations",
    "source": "sources",
}


def url(path: str, params: dict | list | None = None) -> str:
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def assert_problem(response, status: int, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"]
    if parameter:
        assert parameter in body["errors"]["query"], body
        assert parameter in body["detail"]
    return body


def total(client, path: str, params: dict | list | None = None) -> int:
    response = client.get(url(path, params))
    assert response.status_code == 200, response.json
    return int(response.headers["X-Total-Count"])


@contextlib.contextmanager
def counted_queries():
    """The SQL statements run inside the block (peewee's execute_sql, wrapped)."""
    db, statements = database.obj, []
    original = db.execute_sql

    def execute_sql(sql, params=None):
        statements.append(sql)
        return original(sql, params)

    db.execute_sql = execute_sql
    try:
        yield statements
    finally:
        del db.execute_sql


def queries_for(client, path: str) -> int:
    with counted_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, response.json
    return len(statements)


# ---------------------------------------------------------------- timeline


def key(item: dict) -> tuple[str, str]:
    return (item["record_type"], item["id"])


def union(client, params: dict) -> set[tuple[str, str]]:
    """What the timeline should hold: the events and statements lists with the same filters."""
    events = fetch_all(client, url("/v1/events", {**params, "limit": 500}))
    statements = fetch_all(client, url("/v1/statements", {**params, "limit": 500}))
    return {("event", i) for i in ids(events)} | {("statement", i) for i in ids(statements)}


def test_timeline_holds_every_event_and_statement_oldest_first(client):
    items = fetch_all(client, "/v1/timeline?limit=5")
    expected = {("event", e["id"]) for e in seed()["events"]}
    expected |= {("statement", s["id"]) for s in seed()["statements"]}
    assert {key(item) for item in items} == expected
    assert len(items) == len(expected)
    dates = [item["date"] for item in items]
    assert dates == sorted(dates)


def test_timeline_reversed_is_the_same_sequence_backwards(client):
    forward = fetch_all(client, "/v1/timeline?limit=4")
    backward = fetch_all(client, "/v1/timeline?limit=7&sort=-date")
    assert [key(i) for i in backward] == [key(i) for i in reversed(forward)]
    dates = [item["date"] for item in backward]
    assert dates == sorted(dates, reverse=True)


def test_timeline_pages_are_the_same_whatever_the_page_size(client):
    whole = [key(i) for i in client.get("/v1/timeline?limit=500").json]
    for limit in (1, 3, 10):
        assert [key(i) for i in fetch_all(client, f"/v1/timeline?limit={limit}")] == whole


def test_timeline_prev_link_goes_back_a_page(client):
    first = client.get("/v1/timeline?limit=3")
    second = client.get(links(first)["next"])
    assert "prev" in links(second)
    back = client.get(links(second)["prev"])
    assert [key(i) for i in back.json] == [key(i) for i in first.json]
    assert int(second.headers["X-Total-Count"]) == int(first.headers["X-Total-Count"])


def test_timeline_items_describe_their_records(client):
    events = {e["id"]: e for e in seed()["events"]}
    statements = {s["id"]: s for s in seed()["statements"]}
    for item in client.get("/v1/timeline?limit=500").json:
        if item["record_type"] == "event":
            event = events[item["id"]]
            assert item["title"] == event["title"]
            participants = list(dict.fromkeys(p["actor"] for p in event["participants"]))
            assert [a["id"] for a in item["actors"]] == participants
            assert (item["location"] or {}).get("id") == event["location"]
            record = event
        else:
            statement = statements[item["id"]]
            assert item["title"] == statement["text"]
            assert [a["id"] for a in item["actors"]] == statement["speakers"]
            assert item["location"] is None
            record = statement
        assert item["date"] == record["date"].isoformat()
        assert item["date_precision"] == record["date_precision"]
        assert item["url"] == f"http://localhost/v1/{PLURAL[item['record_type']]}/{item['id']}"
        detail = client.get(item["url"])
        assert detail.status_code == 200 and detail.json["id"] == item["id"]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2020-04-01"},
        {"date_to": "2020-03-31"},
        {"date_from": "2020-03-01", "date_to": "2020-04-02"},
        {"q": "Iraq"},
        {"q": "Soleimani", "date_to": "2020-03-31"},
        {"actor": ["kataib-hezbollah", "donald-trump"]},
    ],
)
def test_timeline_filters_as_the_lists_do(client, params):
    items = fetch_all(client, url("/v1/timeline", {**params, "limit": 2}))
    expected = union(client, params)
    assert {key(i) for i in items} == expected
    assert expected, "a filter case that matches nothing proves little"


@pytest.mark.parametrize("q", ["*", '"', "OR", "قاسم"])
def test_timeline_accepts_any_full_text(client, q):
    response = client.get(url("/v1/timeline", {"q": q}))
    assert response.status_code == 200, response.json
    assert {key(i) for i in response.json} == union(client, {"q": q})


def test_timeline_actor_filter_per_actor(client):
    """For every actor: its events (any role) and the statements it made or received."""
    by_actor: dict[str, set] = defaultdict(set)
    for event in seed()["events"]:
        for participant in event["participants"]:
            by_actor[participant["actor"]].add(("event", event["id"]))
    for statement in seed()["statements"]:
        for actor in statement["speakers"] + statement["addressees"]:
            by_actor[actor].add(("statement", statement["id"]))
    for actor in seed()["actors"]:
        items = client.get(url("/v1/timeline", {"actor": actor["id"], "limit": 500})).json
        assert {key(i) for i in items} == by_actor[actor["id"]], actor["id"]


def test_timeline_location_includes_places_inside_and_statements_about_their_events(client):
    events = ids(fetch_all(client, "/v1/events?location=iraq&limit=500"))
    about = {s["id"] for s in seed()["statements"] if set(s["events"]) & events}
    items = fetch_all(client, "/v1/timeline?location=iraq&limit=3")
    assert {key(i) for i in items} == {("event", e) for e in events} | {
        ("statement", s) for s in about
    }
    assert about, "the seed has statements about events in Iraq"
    inner = fetch_all(client, "/v1/timeline?location=anbar-province")
    assert {key(i) for i in inner} < {key(i) for i in items}


def test_timeline_refuses_bad_parameters(client):
    assert_problem(client.get("/v1/timeline?actr=kataib-hezbollah"), 422, "actr")
    assert_problem(client.get("/v1/timeline?sort=title"), 422, "sort")
    assert_problem(client.get("/v1/timeline?actor=no-such-actor"), 422, "actor")
    assert_problem(client.get("/v1/timeline?location=atlantis"), 422, "location")
    assert_problem(client.get("/v1/timeline?limit=0"), 422, "limit")
    assert_problem(client.get("/v1/timeline?date_from=2020-05-01&date_to=2020-04-01"), 422)
    status = client.get("/v1/timeline?cursor=not-a-cursor").status_code
    assert status in (400, 422)
    # A cursor of one sort order is refused by the other.
    next_of_forward = links(client.get("/v1/timeline?limit=2"))["next"]
    cursor = next_of_forward.split("cursor=")[1]
    assert client.get(f"/v1/timeline?sort=-date&cursor={cursor}").status_code in (400, 422)


# ---------------------------------------------------------------- network


def seed_edges() -> dict[tuple, dict]:
    """Every network edge the seed implies, keyed like the API's edges."""
    edges: dict[tuple, dict] = {}
    for relation in seed()["relations"]:
        k = ("relation", relation["subject"], relation["object"], relation["predicate"])
        edges[k] = {"ends": {relation["subject"], relation["object"]}, "relation": relation}
    for kind, records, actors_of, field in (
        (
            "co_participation",
            seed()["events"],
            lambda r: [p["actor"] for p in r["participants"]],
            "events",
        ),
        ("co_signatory", seed()["statements"], lambda r: r["speakers"], "statements"),
    ):
        for record in records:
            actors = sorted(set(actors_of(record)))
            for n, one in enumerate(actors):
                for other in actors[n + 1 :]:
                    edge = edges.setdefault(
                        (kind, one, other, None), {"ends": {one, other}, field: set()}
                    )
                    edge[field].add(record["id"])
    return edges


def expected_network(actor: str, depth: int) -> tuple[dict[str, int], set[tuple]]:
    """Nodes with their depth, and edge keys, by breadth-first search over the seed."""
    edges = seed_edges()
    depth_of, found, frontier = {actor: 0}, set(), {actor}
    for level in range(1, depth + 1):
        reached = set()
        for k, edge in edges.items():
            if edge["ends"] & frontier:
                found.add(k)
                for end in edge["ends"] - set(depth_of):
                    depth_of[end] = level
                    reached.add(end)
        frontier = reached
    return depth_of, found


def api_key(edge: dict) -> tuple:
    if edge["kind"] == "relation":
        return ("relation", edge["source"], edge["target"], edge["predicate"])
    one, other = sorted((edge["source"], edge["target"]))
    return (edge["kind"], one, other, None)


@pytest.mark.parametrize("depth", [1, 2])
def test_network_matches_the_seed_graph(client, depth):
    edges = seed_edges()
    for actor in seed()["actors"]:
        response = client.get(f"/v1/actors/{actor['id']}/network?depth={depth}&limit=500")
        assert response.status_code == 200, response.json
        body = response.json
        depth_of, keys = expected_network(actor["id"], depth)
        assert body["actor"]["id"] == actor["id"] and body["depth"] == depth
        assert {n["id"]: n["depth"] for n in body["nodes"]} == depth_of, actor["id"]
        assert body["nodes"][0]["id"] == actor["id"]
        assert [n["depth"] for n in body["nodes"]] == sorted(n["depth"] for n in body["nodes"])
        assert {api_key(e) for e in body["edges"]} == keys, actor["id"]
        assert len(body["edges"]) == len(keys)
        assert body["truncated"] is False
        for edge in body["edges"]:
            expected = edges[api_key(edge)]
            if edge["kind"] == "relation":
                excerpts = [c["excerpt"] for c in edge["citations"]]
                assert excerpts == [c["excerpt"] for c in expected["relation"]["citations"]]
                assert edge["events"] == [] and edge["statements"] == []
            else:
                assert edge["predicate"] is None and edge["citations"] == []
                evidence = edge["events"] or edge["statements"]
                assert set(evidence) == expected.get("events", expected.get("statements"))


def test_network_edge_kinds_all_occur(client):
    kinds = set()
    for actor in ("kataib-hezbollah", "us-forces", "asaib-ahl-al-haq", "qasem-soleimani"):
        body = client.get(f"/v1/actors/{actor}/network").json
        kinds |= {edge["kind"] for edge in body["edges"]}
    assert kinds == {"relation", "co_participation", "co_signatory"}


def test_network_depth_two_extends_depth_one(client):
    grew = False
    for actor in seed()["actors"]:
        one = client.get(f"/v1/actors/{actor['id']}/network").json
        two = client.get(f"/v1/actors/{actor['id']}/network?depth=2").json
        nodes_one = {n["id"] for n in one["nodes"]}
        assert nodes_one <= {n["id"] for n in two["nodes"]}
        assert {api_key(e) for e in one["edges"]} <= {api_key(e) for e in two["edges"]}
        grew |= len(two["nodes"]) > len(one["nodes"])
    assert grew


def test_network_limit_truncates_nearest_first(client):
    full = client.get("/v1/actors/kataib-hezbollah/network?depth=2&limit=500").json
    assert len(full["nodes"]) > 3
    cut = client.get("/v1/actors/kataib-hezbollah/network?depth=2&limit=3").json
    assert cut["truncated"] is True
    assert len(cut["nodes"]) == 3
    assert cut["nodes"][0]["id"] == "kataib-hezbollah"
    kept = {n["id"] for n in cut["nodes"]}
    assert kept <= {n["id"] for n in full["nodes"]}
    for edge in cut["edges"]:
        assert {edge["source"], edge["target"]} <= kept
    # The nodes kept are among the nearest.
    assert max(n["depth"] for n in cut["nodes"]) <= min(
        n["depth"] for n in full["nodes"] if n["id"] not in kept
    )
    alone = client.get("/v1/actors/kataib-hezbollah/network?limit=1").json
    assert [n["id"] for n in alone["nodes"]] == ["kataib-hezbollah"]
    assert alone["edges"] == [] and alone["truncated"] is True


def test_network_of_an_unknown_actor_is_404(client):
    body = assert_problem(client.get("/v1/actors/no-such-actor/network"), 404)
    assert "no-such-actor" in body["detail"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("depth=3", "depth"),
        ("depth=0", "depth"),
        ("depth=two", "depth"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("dept=2", "dept"),
    ],
)
def test_network_refuses_bad_parameters(client, query, parameter):
    assert_problem(client.get(f"/v1/actors/kataib-hezbollah/network?{query}"), 422, parameter)


def test_network_route_leaves_the_actor_routes_alone(client):
    assert client.get("/v1/actors/kataib-hezbollah").json["id"] == "kataib-hezbollah"
    assert client.get("/v1/actors/network").status_code == 404  # no actor called "network"


# ---------------------------------------------------------------- search


def test_search_hits_are_typed_ranked_and_link_to_their_records(client):
    response = client.get("/v1/search?q=Ghaani")
    assert response.status_code == 200
    hits = response.json
    assert int(response.headers["X-Total-Count"]) == len(hits)
    assert {"actor", "event", "statement"} <= {h["record_type"] for h in hits}
    assert ("actor", "esmail-ghaani") in {key(h) for h in hits}
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    for hit in hits:
        assert "ghaani" in hit["snippet"].lower(), hit
        assert hit["url"] == f"http://localhost/v1/{PLURAL[hit['record_type']]}/{hit['id']}"
        detail = client.get(hit["url"])
        assert detail.status_code == 200 and detail.json["id"] == hit["id"]
        assert hit["title"] == (
            detail.json.get("name") or detail.json.get("title") or detail.json["text"][:200]
        )


@pytest.mark.parametrize("q", ["Iraq", "Soleimani", "Patriot", "base", "al-Asad"])
def test_search_finds_what_each_list_finds(client, q):
    response = client.get(url("/v1/search", {"q": q, "limit": 100}))
    hits = response.json
    found = defaultdict(set)
    for hit in hits:
        found[hit["record_type"]].add(hit["id"])
    for record_type, plural in PLURAL.items():
        listed = ids(fetch_all(client, url(f"/v1/{plural}", {"q": q, "limit": 500})))
        assert found[record_type] == listed, (q, record_type)
    assert int(response.headers["X-Total-Count"]) == len(hits) > 0


def test_search_limit_keeps_the_best_and_the_total(client):
    everything = client.get("/v1/search?q=Iraq&limit=100")
    best = client.get("/v1/search?q=Iraq&limit=3")
    assert best.json == everything.json[:3]
    assert best.headers["X-Total-Count"] == everything.headers["X-Total-Count"]


def test_search_type_filter(client):
    for types in (["event"], ["actor", "location"], ["source"]):
        hits = client.get(url("/v1/search", {"q": "Iraq", "type": types, "limit": 100})).json
        assert hits and {h["record_type"] for h in hits} <= set(types)
        listed = set()
        for record_type in types:
            listed |= {
                (record_type, i)
                for i in ids(
                    fetch_all(
                        client, url(f"/v1/{PLURAL[record_type]}", {"q": "Iraq", "limit": 500})
                    )
                )
            }
        assert {key(h) for h in hits} == listed


def test_search_is_case_and_diacritic_insensitive(client):
    plain = {key(h) for h in client.get("/v1/search?q=ghaani").json}
    assert {key(h) for h in client.get("/v1/search?q=GHAANI").json} == plain


def test_search_native_script(client):
    word = "المهندس"
    expected = {
        a["id"] for a in seed()["actors"] if any(word in alias["name"] for alias in a["aliases"])
    }
    assert expected
    hits = client.get(url("/v1/search", {"q": word})).json
    assert {h["id"] for h in hits if h["record_type"] == "actor"} == expected
    assert all(word in h["snippet"] for h in hits)


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "'",
        '"unterminated',
        "*",
        "Iraq*",
        "OR",
        "Iraq OR Iran",
        "NOT Iraq",
        "AND",
        "NEAR(Iraq Iran)",
        "title:Iraq",
        "-Iraq",
        "(",
        "^",
        "Iraq & Iran | !base",
        "al-Asad's",
        "Soleimani\u2019s",
        "قاسم سلیمانی",
        "العراق",
        "🚀",
        "%_\\",
        "x" * 500,
    ],
)
def test_search_accepts_any_text(client, q):
    response = client.get(url("/v1/search", {"q": q}))
    assert response.status_code == 200, (q, response.json)
    assert isinstance(response.json, list)


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%00", "q"),
        ("q=Iraq&type=relation", "type"),
        ("q=Iraq&limit=0", "limit"),
        ("q=Iraq&limit=101", "limit"),
        ("q=Iraq&sort=score", "sort"),
        ("q=Iraq&cursor=x", "cursor"),
    ],
)
def test_search_refuses_bad_parameters(client, query, parameter):
    assert_problem(client.get(f"/v1/search?{query}"), 422, parameter)


# ---------------------------------------------------------------- facets

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
    assert got == Counter(s for st in statements for s in st["speakers"])
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


# ---------------------------------------------------------------- vocabularies


def test_vocabularies_are_complete(client):
    response = client.get("/v1/vocabularies")
    assert response.status_code == 200
    body = response.json
    everything = vocab.all_vocabularies()
    assert list(body) == list(everything)
    for name, codes in everything.items():
        assert [(e["code"], e["meaning"]) for e in body[name]] == list(codes.items()), name
    for entry in body["event_sub_types"]:
        assert entry["type"] == vocab.EVENT_SUB_TYPES[entry["code"]][0]
        assert entry["type"] in vocab.EVENT_TYPES


def test_vocabularies_refuse_parameters(client):
    assert_problem(client.get("/v1/vocabularies?name=actor_kinds"), 422, "name")


def test_the_spec_enums_are_the_vocabularies(client):
    spec = client.get("/openapi.json").json
    params = {p["name"]: p for p in spec["paths"]["/v1/events/facets"]["get"]["parameters"]}
    assert params["type"]["schema"]["items"]["enum"] == list(vocab.EVENT_TYPES)
    edge = spec["components"]["schemas"]["NetworkEdge"]["properties"]
    assert edge["predicate"]["enum"][: len(vocab.RELATION_PREDICATES)] == list(
        vocab.RELATION_PREDICATES
    )


# ---------------------------------------------------------------- source detail


def cited_in_seed() -> dict[str, Counter]:
    """{source id: Counter(collection -> records citing it)} straight from the YAML files."""
    result: dict[str, Counter] = defaultdict(Counter)
    for path in default_files():
        bundle = read_bundle(path)
        default = bundle["source"]["id"]
        for collection in ("actors", "relations", "locations", "events", "statements"):
            for record in bundle[collection]:
                for source in {c["source"] or default for c in record["citations"]}:
                    result[source][collection] += 1
    return result


def test_source_detail_counts_what_was_extracted(client):
    expected = cited_in_seed()
    for source in seed()["sources"]:
        body = client.get(f"/v1/sources/{source['id']}").json
        counts = body["counts"]
        assert counts == {
            c: expected[source["id"]][c]
            for c in ("actors", "relations", "locations", "events", "statements")
        }
        assert set(body["links"]) == {"actors", "relations", "locations", "events", "statements"}
        for collection, link in body["links"].items():
            assert link == f"http://localhost/v1/{collection}?source={source['id']}"
            assert total(client, link) == counts[collection], collection


def test_source_list_items_carry_the_same_counts(client):
    for item in fetch_all(client, "/v1/sources?limit=1"):
        assert item["counts"] == client.get(f"/v1/sources/{item['id']}").json["counts"]


# ---------------------------------------------------------------- query counts


def test_timeline_query_count_does_not_grow_with_the_page(client):
    # Count, page, then the page's events, statements, places, participants and speakers,
    # one batch each: the same for any page holding both kinds.
    counts = {queries_for(client, f"/v1/timeline?limit={n}") for n in (12, 20, 500)}
    assert len(counts) == 1 and counts.pop() <= 7
    filtered = queries_for(
        client, "/v1/timeline?limit=500&actor=us-forces&location=iraq&q=US&date_from=2020-01-01"
    )
    assert filtered <= 11


def test_network_query_count_is_constant(client):
    one = {queries_for(client, f"/v1/actors/{a['id']}/network") for a in seed()["actors"]}
    two = {
        queries_for(client, f"/v1/actors/{a['id']}/network?depth=2&limit=500")
        for a in seed()["actors"]
    }
    assert max(one) <= 8 and max(two) <= 12


def test_search_query_count_does_not_grow_with_the_limit(client):
    assert (
        queries_for(client, "/v1/search?q=Iraq&limit=1")
        == queries_for(client, "/v1/search?q=Iraq&limit=100")
        <= 2
    )


def test_facet_query_counts_are_small(client):
    for field in ("type", "sub_type", "month", "actor", "location"):
        assert queries_for(client, f"/v1/events/facets?field={field}") <= 2, field
        assert queries_for(client, f"/v1/events/facets?field={field}&actor=us-forces") <= 3
    for field in ("speaker", "channel", "month"):
        assert queries_for(client, f"/v1/statements/facets?field={field}") <= 1, field


def test_vocabularies_and_sources_query_counts(client):
    assert queries_for(client, "/v1/vocabularies") == 0
    source = seed()["sources"][0]["id"]
    assert queries_for(client, f"/v1/sources/{source}") <= 2
    assert queries_for(client, "/v1/sources?limit=1") == queries_for(client, "/v1/sources")


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
