"""The seed loader: idempotent, all-or-nothing, clear errors; and the API serves every fact
of the seed with the sentence that supports it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from api.cli import cli
from api.ingest import SeedError, default_files, load_files, validate_files
from tests.helpers import briefing_files, fetch_all, seed

COLLECTIONS = ["events", "statements", "actors", "locations", "sources"]


def snapshot(client) -> dict[str, list[dict]]:
    return {c: fetch_all(client, f"/v1/{c}?limit=500") for c in COLLECTIONS}


def test_loading_twice_changes_nothing(client, app):
    before = snapshot(client)
    with app.app_context():
        report = load_files(briefing_files())
    assert report.changed == 0
    assert snapshot(client) == before


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def bad_bundle(tmp_path: Path) -> Path:
    """A bundle whose first records are fine and whose last one is not."""
    good = yaml.safe_load((default_files()[0]).read_text(encoding="utf-8"))
    good["source"]["id"] = "test-bad-bundle"
    good["actors"] = [dict(good["actors"][0], id="test-new-actor")]
    good["relations"] = good["locations"] = good["statements"] = []
    good["events"] = [
        dict(
            good["events"][0],
            id="test-new-event",
            fatalities="many",
            participants=[],
            location=None,
        )
    ]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    return path


def test_a_file_with_an_error_is_refused_whole(client, app, tmp_path):
    before = snapshot(client)
    path = bad_bundle(tmp_path)
    with app.app_context(), pytest.raises(SeedError) as error:
        load_files([path])
    message = str(error.value)
    assert "bad.yaml" in message and "events[0] (test-new-event)" in message
    assert "fatalities" in message
    assert snapshot(client) == before
    assert client.get("/v1/actors/test-new-actor").status_code == 404


def test_unresolved_reference_is_named(app, tmp_path):
    path = write(
        tmp_path,
        "dangling.yaml",
        """\
        source:
          {id: test-dangling, title: T, publisher: P, published: 2020-04-07,
           text: A sentence long enough.}
        events:
          - id: test-dangling-event
            title: An event
            type: battles
            sub_type: armed_clash
            date: 2020-04-01
            date_precision: day
            fatalities: null
            location: atlantis
            participants: [{actor: nobody-at-all, role: perpetrator}]
            citations: ["A sentence long enough."]
        """,
    )
    with app.app_context(), pytest.raises(SeedError) as error:
        validate_files([path])
    problems = error.value.problems
    assert any("location: unknown location 'atlantis'" in p for p in problems)
    assert any("participants[0].actor: unknown actor 'nobody-at-all'" in p for p in problems)
    assert all(p.startswith("dangling.yaml: events[0] (test-dangling-event)") for p in problems)


def test_unknown_key_in_a_seed_file_is_an_error(app, tmp_path):
    path = write(
        tmp_path,
        "typo.yaml",
        """\
        source: {id: test-typo, title: T, publisher: P, published: 2020-04-07, publshed: x}
        """,
    )
    with app.app_context(), pytest.raises(SeedError) as error:
        validate_files([path])
    assert "typo.yaml: source.publshed: Unknown field." in error.value.problems


def test_cli_check_validates_without_loading(app, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(cli, ["seed", "--check", str(default_files()[0])])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    result = runner.invoke(cli, ["seed", "--check", str(bad_bundle(tmp_path))])
    assert result.exit_code == 1
    assert "bad.yaml: events[0] (test-new-event) fatalities" in result.output
    result = runner.invoke(cli, ["seed", "--if-empty"])
    assert result.exit_code == 0 and "already seeded" in result.output


# ---------------------------------------------------------------- fidelity over the API


def excerpts(record: dict) -> list[str]:
    return [citation["excerpt"] for citation in record["citations"]]


@pytest.mark.response_cache  # again with the cache on, as in service
def test_every_event_is_served_as_seeded(client):
    for expected in seed()["events"]:
        got = client.get(f"/v1/events/{expected['id']}").json
        assert got["title"] == expected["title"]
        assert (got["type"], got["sub_type"]) == (expected["type"], expected["sub_type"])
        assert got["date"] == expected["date"].isoformat()
        assert got["date_precision"] == expected["date_precision"]
        assert got["fatalities"] == expected["fatalities"]
        assert (got["location"] or {}).get("id") == expected["location"]
        assert [(p["actor"]["id"], p["role"]) for p in got["participants"]] == [
            (p["actor"], p["role"]) for p in expected["participants"]
        ]
        assert [c["excerpt"] for c in expected["citations"]] == excerpts(got)


@pytest.mark.response_cache  # again with the cache on, as in service
def test_every_statement_is_served_as_seeded(client):
    for expected in seed()["statements"]:
        got = client.get(f"/v1/statements/{expected['id']}").json
        assert got["text"] == expected["text"]
        assert got["verbatim"] is expected["verbatim"]
        assert got["channel"] == expected["channel"]
        assert [s["id"] for s in got["speakers"]] == expected["speakers"]
        assert {a["id"] for a in got["addressees"]} == set(expected["addressees"])
        assert {a["id"] for a in got["mentions"]} == set(expected["mentions"])
        assert (got["anonymous"], got["attribution"]) == (
            expected["anonymous"],
            expected["attribution"],
        )
        assert (got["outlet"] or {}).get("id") == expected["outlet"]
        assert got["signatory_count"] == expected["signatory_count"]
        assert {e["id"] for e in got["events"]} == set(expected["events"])
        assert [c["excerpt"] for c in expected["citations"]] == excerpts(got)


@pytest.mark.response_cache  # again with the cache on, as in service
def test_every_actor_and_relation_is_served_as_seeded(client):
    for expected in seed()["actors"]:
        got = client.get(f"/v1/actors/{expected['id']}").json
        assert (got["name"], got["kind"], got["title"]) == (
            expected["name"],
            expected["kind"],
            expected["title"],
        )
        assert [a["name"] for a in got["aliases"]] == [a["name"] for a in expected["aliases"]]
        assert [c["excerpt"] for c in expected["citations"]] == excerpts(got)
        served = {(r["subject"]["id"], r["predicate"], r["object"]["id"]) for r in got["relations"]}
        stated = {
            (r["subject"], r["predicate"], r["object"])
            for r in seed()["relations"]
            if expected["id"] in (r["subject"], r["object"])
        }
        assert served == stated


@pytest.mark.response_cache  # again with the cache on, as in service
def test_every_location_is_served_as_seeded(client):
    for expected in seed()["locations"]:
        got = client.get(f"/v1/locations/{expected['id']}").json
        assert (got["name"], got["kind"]) == (expected["name"], expected["kind"])
        assert (got["parent"] or {}).get("id") == expected["parent"]
        assert (got["latitude"], got["longitude"]) == (expected["latitude"], expected["longitude"])
        assert [c["excerpt"] for c in expected["citations"]] == excerpts(got)


@pytest.mark.response_cache  # again with the cache on, as in service
def test_the_source_is_served(client):
    for expected in seed()["sources"]:
        got = client.get(f"/v1/sources/{expected['id']}").json
        assert got["title"] == expected["title"]
        assert got["publisher"] == expected["publisher"]
        assert got["published"] == expected["published"].isoformat()
