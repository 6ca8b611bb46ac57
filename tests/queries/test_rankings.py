"""A full-text query asked again in a data version is sliced from its kept ranking
(api/queries/rankings.py): the same pages, cursors, totals and links as ranking it in the
database each time, and never a ranking older than the data."""

from __future__ import annotations

import json

import pytest
from playhouse.test_utils import count_queries

from api.queries import fulltext, rankings
from api.queries.paging import forget_counts
from tests.helpers import links, url
from tests.queries.test_rendered import MERGE

LISTS = ["/v1/events", "/v1/statements", "/v1/actors", "/v1/locations"]
WORDS = ["Iraq", "strike", "al", "zzzznothing"]
SHOWN = ("X-Total-Count", "X-Total-Count-Estimate", "Link", "ETag")


@pytest.fixture(autouse=True)
def ranked_by_the_database(monkeypatch):
    """Unless a test says otherwise, every ask is ranked by the database (with a LIMIT), on
    both backends."""
    monkeypatch.setattr(fulltext, "keeps_rankings", lambda: False)


def walk(client, first: str, each_a_first_ask: bool = True) -> list[tuple]:
    """Every page from `first` by rel="next", then back by rel="prev": (body, headers) of
    each; `each_a_first_ask`: every request its query's first in the data version."""
    seen, target, step = [], first, "next"
    forget_counts()
    while target:
        if each_a_first_ask:
            forget_counts()
        response = client.get(target)
        assert response.status_code == 200, response.json
        seen.append((response.data, {name: response.headers.get(name) for name in SHOWN}))
        target = links(response).get(step)
        if target is None and step == "next" and "prev" in links(response):
            step, target = "prev", links(response)["prev"]
    return seen


def kept_walk(client, monkeypatch, first: str) -> list[tuple]:
    """`walk` with the query's ranking kept: every page but the first sliced from the
    ranking the first page read."""
    with monkeypatch.context() as kept:
        kept.setattr(fulltext, "keeps_rankings", lambda: True)
        return walk(client, first, each_a_first_ask=False)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("q", WORDS)
def test_a_kept_ranking_pages_as_the_database_ranks(client, monkeypatch, path, q):
    first = url(path, {"q": q, "limit": 2})
    by_the_database = walk(client, first)
    assert kept_walk(client, monkeypatch, first) == by_the_database
    if path == "/v1/events" and q != "zzzznothing":
        assert len(by_the_database) > 2  # there are pages to slice


@pytest.mark.parametrize("q", WORDS)
@pytest.mark.parametrize("types", [None, ["event"], ["event", "actor"]])
def test_search_slices_a_kept_ranking_as_the_database_ranks(client, monkeypatch, q, types):
    first = url("/v1/search", {"q": q, "limit": 3, **({"type": types} if types else {})})
    assert kept_walk(client, monkeypatch, first) == walk(client, first)


def test_a_later_page_beyond_the_count_limit_estimates_as_before(make_app, monkeypatch):
    """Past EXACT_COUNT_LIMIT a later page gives an estimate; the kept ranking's is exact."""
    capped = make_app(EXACT_COUNT_LIMIT=3).test_client()
    first = url("/v1/events", {"q": "Iraq", "limit": 2})
    by_the_database, kept = walk(capped, first), kept_walk(capped, monkeypatch, first)
    exact = int(by_the_database[0][1]["X-Total-Count"])
    assert exact > 3 and len(kept) == len(by_the_database)
    for (data, headers), (kept_data, kept_headers) in zip(by_the_database, kept, strict=True):
        assert (kept_data, kept_headers["Link"]) == (data, headers["Link"])
        assert kept_headers["X-Total-Count"] == headers["X-Total-Count"]
        if headers["X-Total-Count"] is None:  # a later page
            assert int(headers["X-Total-Count-Estimate"]) > 3
            assert int(kept_headers["X-Total-Count-Estimate"]) == exact


def test_a_ranking_too_large_to_keep_is_ranked_each_time(client, monkeypatch):
    monkeypatch.setattr(rankings, "KEEP_AT_MOST", 3)
    first = url("/v1/events", {"q": "Iraq", "limit": 2})
    assert kept_walk(client, monkeypatch, first) == walk(client, first)


def test_the_backend_that_reads_every_match_keeps_rankings(client, monkeypatch, database_url):
    """PostgreSQL ranks from the rows, SQLite from its index (fulltext.keeps_rankings): the
    second page of a ranking kept reads no match again."""
    monkeypatch.undo()
    forget_counts()
    first = client.get("/v1/events?q=Iraq&limit=2")
    second = links(first)["next"]
    kept = database_url.startswith("postgresql")
    assert fulltext.keeps_rankings() is kept
    with count_queries() as counter:
        assert client.get(second).status_code == 200
    statements = [query.msg[0] for query in counter.get_queries()]
    ranked_again = any("MATCH" in sql or "@@" in sql for sql in statements)
    assert ranked_again is not kept


def test_a_write_is_never_answered_from_the_ranking_before_it(curated, monkeypatch):
    monkeypatch.setattr(fulltext, "keeps_rankings", lambda: True)
    client = curated.app.test_client()
    path = "/v1/events?q=Halliburton&limit=50"
    forget_counts()
    before = [client.get(path) for _ in range(2)]  # the second from the kept ranking
    assert len({response.data for response in before}) == 1
    found = {event["id"] for event in before[0].json}
    other = next(
        event["id"] for event in client.get("/v1/events?limit=100").json if event["id"] not in found
    )
    etag = client.get(f"/v1/events/{other}").headers["ETag"]
    headers = {**curated.auth(), "If-Match": etag, "Content-Type": MERGE}
    body = json.dumps({"title": "Halliburton compound hit again"})
    assert client.patch(f"/v1/events/{other}", data=body, headers=headers).status_code == 200
    after = client.get(path)
    assert other in {event["id"] for event in after.json}
    assert int(after.headers["X-Total-Count"]) == int(before[0].headers["X-Total-Count"]) + 1
    searched = client.get("/v1/search?q=Halliburton&type=event&limit=100").json
    assert other in {hit["id"] for hit in searched}
