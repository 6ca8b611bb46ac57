"""Search across collections (api/queries/search.py): typed, ranked hits that agree with what
each list's full text finds."""

from __future__ import annotations

from collections import defaultdict

import pytest

from api.queries import fulltext
from api.queries.paging import forget_counts
from tests.helpers import PLURAL, assert_problem, fetch_all, ids, key, queries_for, seed, url


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


def test_search_query_count_does_not_grow_with_the_limit(client, monkeypatch):
    """Ranked by the database each time (SQLite), or read whole once per data version and
    then sliced (PostgreSQL; both backends here): at any limit, the same queries."""
    path = "/v1/search?q=Iraq&limit={}"

    def first_asks() -> list[int]:
        found = []
        for limit in (1, 100):
            forget_counts()
            found.append(queries_for(client, path.format(limit)))
        return found

    for keeps in (False, True):
        monkeypatch.setattr(fulltext, "keeps_rankings", lambda keeps=keeps: keeps)
        first = first_asks()
        later = [queries_for(client, path.format(limit)) for limit in (1, 100)]
        assert first[0] == first[1] <= (3 if keeps else 2)
        assert later[0] == later[1] <= 2
