"""Source detail (api/queries/sources.py): what was extracted from each source, counted from
the briefing files."""

from __future__ import annotations

from collections import Counter, defaultdict

from api.queries.paging import forget_counts
from tests.helpers import bundles, fetch_all, queries_for, seed, total


def cited_in_seed() -> dict[str, Counter]:
    """{source id: Counter(collection -> records citing it)} straight from the YAML files."""
    result: dict[str, Counter] = defaultdict(Counter)
    for bundle in bundles().values():
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


def test_source_query_counts(client):
    for source in seed()["sources"]:
        # the source, the data version, its counts (then remembered for that version)
        assert queries_for(client, f"/v1/sources/{source['id']}") <= 3, source["id"]
    forget_counts()
    first = queries_for(client, "/v1/sources?limit=1")
    forget_counts()
    assert queries_for(client, "/v1/sources") == first  # whatever the page size
