"""Records' STIX objects kept rendered (api/queries/stix_kept.py): each stored object is a
fresh rendering of its record, after writes to the records it copies from too (rendered after
the write's answer: `settle`), and an export after such a write shows the new state with a new
`modified`, before and after they are rendered. On both backends."""

from __future__ import annotations

import json
import uuid

import peewee as pw

from api.queries import stix_kept
from api.store.db import database
from api.store.models import Actor, StixJson, StixStale
from tests.queries.test_rendered import write

HUB = "kataib-hezbollah"


def kept_and_fresh(namespace) -> tuple[dict, dict]:
    """{(record type, row id): (object, modified)} as stored, and as rendered now."""
    with database.connection_context():
        assert not StixStale.select().exists()  # each write rendered what it made stale
        rows = list(StixJson.select().tuples())
        stored = {(t, i): (json.loads(body), modified) for t, i, body, modified in rows if body}
        fresh = {}
        for record_type in stix_kept.KEPT:
            ids = [i for t, i, *_ in rows if t == record_type]
            for row_id, (body, modified) in stix_kept.render(record_type, ids, namespace).items():
                fresh[(record_type, row_id)] = (json.loads(body), modified)
    return stored, fresh


def by_record(client) -> dict[str, dict]:
    """The whole export's objects by `record_type/record_id` (their extension's)."""
    found = {}
    for obj in client.get("/v1/stix").json["objects"]:
        extension = next(iter(obj.get("extensions", {}).values()), {})
        if "record_id" in extension:
            found[f"{extension['record_type']}/{extension['record_id']}"] = obj
    return found


def stored_bodies() -> dict[tuple[str, int], str]:
    with database.connection_context():
        return {(t, i): body for t, i, body, _modified in StixJson.select().tuples()}


def test_kept_objects_are_fresh_and_follow_what_they_copy(curated):
    client = curated.app.test_client()
    namespace = curated.app.config["STIX_NAMESPACE"]
    stored, fresh = kept_and_fresh(namespace)
    assert len(stored) == len(fresh) > 80 and stored == fresh
    before = by_record(client)

    write(client, curated, "PATCH", "/v1/actors/kataib-hezbollah", {"name": "Kataib Hizballah"})
    write(client, curated, "PATCH", "/v1/locations/anbar-province", {"latitude": 33.5})
    after = by_record(client)

    actor, place = after["actor/kataib-hezbollah"], after["location/anbar-province"]
    assert actor["name"] == "Kataib Hizballah" and place["latitude"] == 33.5
    for key in ("actor/kataib-hezbollah", "location/anbar-province"):
        assert after[key]["modified"] > before[key]["modified"]
    # an event it takes part in, a relation and a statement refer to it by a STIX id its kind
    # makes: their objects follow its version; a base inside the province names it
    refers = [
        key
        for key, obj in after.items()
        if key.split("/")[0] in ("event", "relation", "statement")
        and actor["id"] in json.dumps(obj)
    ]
    assert {key.split("/")[0] for key in refers} == {"event", "relation", "statement"}
    for key in [*refers, "location/ain-al-asad-air-base"]:
        assert after[key]["modified"] > before[key]["modified"], key
    untouched = after["event/rocket-strike-near-halliburton-2020-04-06"]
    assert untouched == before["event/rocket-strike-near-halliburton-2020-04-06"]

    with database.connection_context():
        assert stix_kept.settle() >= len(refers)  # as after the writes' answers
    assert by_record(client) == after
    stored, fresh = kept_and_fresh(namespace)
    assert len(stored) == len(fresh) and stored == fresh


def test_pages_read_the_kept_objects_of_their_own_namespace(curated, make_app):
    """What a reader serves is the stored body (a body changed behind the service shows), unless
    it was rendered under another namespace: then it is rendered on the spot."""
    client = curated.app.test_client()
    with database.connection_context():
        StixJson.update(body=pw.fn.REPLACE(StixJson.body, '"Kataib', '"Stored Kataib')).where(
            StixJson.record_type == "actor"
        ).execute()
    assert by_record(client)["actor/kataib-hezbollah"]["name"] == "Stored Kataib Hezbollah"
    other = make_app(curated.url, STIX_NAMESPACE=uuid.uuid4()).test_client()
    assert by_record(other)["actor/kataib-hezbollah"]["name"] == "Kataib Hezbollah"


def test_a_write_renders_what_copies_from_its_record_after_its_answer(curated):
    """A write to an actor marks the actor once, not each object that shows it (a hub's are
    100,000s): the write's transaction renders the actor's own object only; readers render the
    others on the spot, fresh, until the answer is sent and they are rendered and kept."""
    client = curated.app.test_client()
    namespace = curated.app.config["STIX_NAMESPACE"]
    before, exported = stored_bodies(), by_record(client)
    with database.connection_context():
        hub = Actor.get(Actor.slug == HUB).id

    answer = write(client, curated, "PATCH", f"/v1/actors/{HUB}", {"name": "Kataib Hizballah"})
    with database.connection_context():
        marks = list(StixStale.select(StixStale.record_type, StixStale.record_id).tuples())
        assert marks == [("~actor", hub)]
        shown = stix_kept.dependents(stix_kept.marked())
    assert {t for t, ids in shown.items() if ids} == {"event", "relation", "statement"}
    written = {key for key, body in stored_bodies().items() if before.get(key) != body}
    assert written == {("actor", hub)}  # the write rendered its record's object only

    read = by_record(client)  # meanwhile, what shows the actor is rendered on the spot
    changed = {key for key in read if read[key] != exported[key]}
    assert len(changed) == 1 + sum(len(ids) for ids in shown.values())
    assert all(read[key]["modified"] > exported[key]["modified"] for key in changed)

    answer.close()  # the answer is sent: what shows the actor is rendered and kept
    with database.connection_context():
        assert not StixStale.select().exists()
    stored, fresh = kept_and_fresh(namespace)
    assert stored == fresh and by_record(client) == read


def test_settle_keeps_the_mark_of_a_record_changed_while_it_renders(curated, monkeypatch):
    """A record written again while the objects that show it are rendered stays marked: they
    are rendered again (its mark left alone while they may show the older version)."""
    client = curated.app.test_client()
    namespace = curated.app.config["STIX_NAMESPACE"]
    write(client, curated, "PATCH", f"/v1/actors/{HUB}", {"name": "Kataib Hizballah"})
    render, renamed = stix_kept.render, []

    def render_then_rename(*args, **kwargs):
        found = render(*args, **kwargs)
        if not renamed:  # another writer's change, after this batch was rendered
            renamed.append(Actor.update(name="KH").where(Actor.slug == HUB).execute())
        return found

    monkeypatch.setattr(stix_kept, "render", render_then_rename)
    with database.connection_context():
        stix_kept.settle(batch=1, passes=1)
        assert StixStale.select().where(StixStale.record_type == "~actor").exists()
        stix_kept.refresh()  # the second writer's own object
        stix_kept.settle()
        assert not StixStale.select().exists()
    stored, fresh = kept_and_fresh(namespace)
    assert stored == fresh  # the objects that show the actor show its second name
