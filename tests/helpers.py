"""Shared test helpers: the seed as loaded from its YAML, and paging through a list."""

from __future__ import annotations

import re
from functools import cache

from api.importer import default_files, read_bundle

LINK = re.compile(r'<([^>]+)>;\s*rel="(\w+)"')


@cache
def seed() -> dict[str, list[dict]]:
    """Every record of every seed file, by collection (the expected content of the API)."""
    merged: dict[str, list[dict]] = {
        "sources": [],
        "actors": [],
        "relations": [],
        "locations": [],
        "events": [],
        "statements": [],
    }
    for path in default_files():
        bundle = read_bundle(path)
        merged["sources"].append(bundle["source"])
        for collection in ("actors", "relations", "locations", "events", "statements"):
            merged[collection].extend(bundle[collection])
    return merged


def links(response) -> dict[str, str]:
    """rel -> url of a response's Link header."""
    return {rel: url for url, rel in LINK.findall(response.headers.get("Link", ""))}


def fetch_all(client, url: str) -> list[dict]:
    """Every record of a list, following rel="next" links; asserts the paging invariants."""
    records, seen_urls = [], set()
    response = client.get(url)
    assert response.status_code == 200, response.json
    total = int(response.headers["X-Total-Count"])
    while True:
        records.extend(response.json)
        next_url = links(response).get("next")
        if not next_url:
            break
        assert next_url not in seen_urls, "paging loops"
        seen_urls.add(next_url)
        response = client.get(next_url)
        assert response.status_code == 200, response.json
        assert int(response.headers["X-Total-Count"]) == total
    ids = [record["id"] for record in records]
    assert len(ids) == len(set(ids)), "a record appeared on two pages"
    assert len(records) == total
    return records


def ids(records: list[dict]) -> set[str]:
    return {record["id"] for record in records}
