"""Full text takes different paths to the same answer: `q` alone by relevance pages
through the index's matches before reading any record, `q` with filters joins them; a sort
other than relevance walks the sort's index for a common word (SQLite) or reads the matches
of a rare one. Every path gives the same records, order, totals and cursors."""

from __future__ import annotations

import pytest

from api.queries import fulltext
from tests.helpers import fetch_all, links, url

# A filter every record passes: it sends `q` down the joined path.
EVERYTHING = {"updated_since": "2000-01-01T00:00:00Z"}
WORDS = ["Iraq", "strike", "al", "Kataib Hezbollah", "zzzznothing"]


def pages(client, path: str, params: dict) -> list[tuple[list[str], str | None]]:
    """Each page of a list (ids and X-Total-Count), following rel="next"."""
    found, target = [], url(path, params)
    while target:
        response = client.get(target)
        assert response.status_code == 200, response.json
        found.append(([r["id"] for r in response.json], response.headers.get("X-Total-Count")))
        target = links(response).get("next")
    return found


@pytest.mark.parametrize("collection", ["events", "statements", "actors", "locations"])
@pytest.mark.parametrize("q", WORDS)
def test_relevance_alone_and_with_a_filter_agree(client, collection, q):
    alone = pages(client, f"/v1/{collection}", {"q": q, "limit": 2})
    joined = pages(client, f"/v1/{collection}", {"q": q, "limit": 2, **EVERYTHING})
    assert alone == joined
    assert (
        client.get(url(f"/v1/{collection}", {"q": q, "limit": 500})).json
        == client.get(url(f"/v1/{collection}", {"q": q, "limit": 500, **EVERYTHING})).json
    )


def test_relevance_alone_pages_back_and_forth(client):
    first = client.get("/v1/events?q=Iraq&limit=2")
    second = client.get(links(first)["next"])
    back = client.get(links(second)["prev"])
    assert back.json == first.json
    assert len(fetch_all(client, "/v1/events?q=Iraq&limit=2")) == int(
        first.headers["X-Total-Count"]
    )


@pytest.mark.parametrize("sort", ["date", "-date", "title"])
@pytest.mark.parametrize("q", ["Iraq", "strike", "zzzznothing"])
def test_walking_the_sort_index_and_reading_the_matches_agree(client, monkeypatch, sort, q):
    params = {"q": q, "sort": sort, "limit": 3}
    read = pages(client, "/v1/events", params)
    monkeypatch.setattr(fulltext, "WALK_ABOVE", {"sqlite": 0, "postgresql": 0})  # walk
    walked = pages(client, "/v1/events", params)
    assert walked == read
    statements = {"q": q, "sort": sort.replace("title", "date"), "limit": 3}
    walked_statements = pages(client, "/v1/statements", statements)
    monkeypatch.setattr(fulltext, "WALK_ABOVE", {"sqlite": 10**9, "postgresql": 10**9})
    assert pages(client, "/v1/statements", statements) == walked_statements
    assert pages(client, "/v1/events", {**params, **EVERYTHING}) == read


def test_the_query_layer_enforces_the_documented_cap():
    from api.queries import fulltext
    from api.queries.errors import InvalidParameter
    from schemas.arguments import MAX_QUERY_TERMS

    assert fulltext.MAX_TERMS == MAX_QUERY_TERMS
    assert fulltext.tokens("a A a b") == ["a", "b"]  # repeated words cost one lookup
    with pytest.raises(InvalidParameter) as raised:
        fulltext.tokens(" ".join(["w"] * (MAX_QUERY_TERMS + 1)))
    assert raised.value.parameter == "q"


def test_a_one_character_word_matches_whole_words_only(client):
    """A one-character word is not a prefix: as one, `a` would read the posting list of every
    word starting with a."""
    import re

    prefixed = {record["id"] for record in client.get("/v1/events?q=pa&limit=500").json}
    assert prefixed  # "pa" still matches patriot, ...
    whole = client.get("/v1/events?q=p&limit=500").json
    assert prefixed - {record["id"] for record in whole}  # "p" no longer does
    for record in whole:
        text = f"{record['title']} {record['summary'] or ''}"
        assert re.search(r"\bp\b", text, re.IGNORECASE), record["id"]
