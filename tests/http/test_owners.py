"""Who may change what (issue #31): a write key may import again, remove or curate only what its
owner owns; an admin key anything. For every write operation of the spec: another owner's key
is refused with a 403 naming the owner it would need and changes nothing, the owner's key and
an admin key succeed (a subscription is its key's own: another owner's key is told 404).
A new write operation without its case here fails the suite."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from api.http.keys import create_key
from tests.helpers import assert_problem
from tests.import_helpers import ANDES, ANDES_ID, BALTIC, BALTIC_ID, with_text
from tests.scratch import scratch_database

OWNER, OTHER = "team-andes", "team-baltic"
# Records only the Andes briefing supports, by collection, and a text field to patch.
TARGETS = {
    "actors": ("test-ramiro-quispe", "description"),
    "relations": ("test-ramiro-quispe--leads--test-sindicato-minero-del-altiplano", "description"),
    "locations": ("test-la-paz-oruro-highway", "description"),
    "events": ("test-bloqueo-la-paz-oruro-2023-05-10", "summary"),
    "statements": ("test-quispe-reuters-2023-05", "summary"),
}
KINDS = ("other owner", "owner", "admin")


@dataclass
class Owned:
    """A seeded copy where the Andes briefing was imported by OWNER's key; keys of OWNER,
    OTHER and the admin; the writable form of each target (to create it again)."""

    client: object
    keys: dict[str, str]
    bodies: dict[str, dict] = field(default_factory=dict)

    def auth(self, kind: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[kind]}"}

    def import_andes(self, kind: str = "owner"):
        return self.client.post(
            "/v1/briefings",
            data=json.dumps(with_text(ANDES)),
            content_type="application/json",
            headers=self.auth(kind),
        )

    def state(self) -> tuple:
        """What a refused write must leave as it was: the change feed's length, every
        record and source, and the keys (but when each was last used)."""
        changes = self.client.get("/v1/changes?limit=1").headers["X-Total-Count"]
        records = {
            collection: self.client.get(f"/v1/{collection}?limit=500").json
            for collection in ("sources", *TARGETS)
        }
        keys = self.client.get("/v1/keys", headers=self.auth("admin")).json
        for key in keys:
            key.pop("last_used_at")
        subscriptions = self.client.get("/v1/subscriptions", headers=self.auth("admin")).json
        links = self.client.get("/v1/same-as").json
        releases = self.client.get("/v1/releases").json
        return changes, records, keys, subscriptions, links, releases


@pytest.fixture(scope="module")
def andes_database(app, database_url, seeded_template, tmp_path_factory):
    """One seeded copy for this module (each case brings its target to the state it needs):
    (its URL, the keys, the writable form of each target)."""
    from api.ingest.curation import find, writable
    from api.store.db import bind, database

    tmp_path = tmp_path_factory.mktemp("owners")
    with scratch_database(database_url, tmp_path, "owners", template=seeded_template) as url:
        bind(url)
        keys = {
            "owner": create_key("andes-writer", "write", OWNER),
            "other owner": create_key("baltic-writer", "write", OTHER),
            "admin": create_key("owners-admin", "admin"),
            "default": create_key("seed-writer", "write"),
        }
        state = Owned(app.test_client(), keys)
        assert state.import_andes().status_code == 201
        with app.app_context(), database.connection_context():
            bodies = {c: writable(c, find(c, slug)) for c, (slug, _) in TARGETS.items()}
        bind(database_url)
        yield url, keys, bodies
        bind(database_url)


@pytest.fixture
def owned(app, database_url, andes_database) -> Iterator[Owned]:
    from api.http.auth import clear_cache
    from api.store.db import bind

    url, keys, bodies = andes_database
    bind(url)
    try:
        yield Owned(app.test_client(), keys, bodies)
    finally:
        clear_cache()
        bind(database_url)


def record_path(collection: str) -> str:
    return f"/v1/{collection}/{TARGETS[collection][0]}"


def restore(owned: Owned) -> None:
    """The Andes briefing's records as it has them: imported again by OWNER's key (a bundle
    owns its records: what a case deleted or changed comes back)."""
    response = owned.import_andes()
    assert response.status_code == 201, response.json


def remove_record(owned: Owned, collection: str) -> None:
    """The target gone (by the admin; what refers to it loses the reference)."""
    headers = owned.auth("admin") | {"If-Match": "*"}
    removed = owned.client.delete(f"{record_path(collection)}?cascade=true", headers=headers)
    assert removed.status_code == 204, removed.json


# A request: (method, URL, keyword arguments of the test client's `open`).
Request = tuple[str, str, dict]


@dataclass(frozen=True)
class Case:
    """One write operation: how to make its request against what OWNER owns (the target
    brought to the state it needs first), and who may make it (`owned`: OWNER's key and an
    admin key; else an admin key only)."""

    prepare: Callable[[Owned, int], Request]
    success: int
    owned: bool = True
    # What another owner's key gets: 403 naming the owner; 404 where the target is another
    # key's own and not shown to others (a subscription); 201 where anyone makes their own.
    other: int = 403


def _import(owned: Owned, n: int) -> Request:
    body = json.dumps(with_text(ANDES))
    return "POST", "/v1/briefings", {"data": body, "content_type": "application/json"}


def _remove_source(owned: Owned, n: int) -> Request:
    restore(owned)
    return "DELETE", f"/v1/sources/{ANDES_ID}", {"headers": {"If-Match": "*"}}


def _create(collection: str) -> Callable[[Owned, int], Request]:
    def prepare(owned: Owned, n: int) -> Request:
        restore(owned)
        remove_record(owned, collection)
        return "POST", f"/v1/{collection}", {"json": owned.bodies[collection]}

    return prepare


def _patch(collection: str) -> Callable[[Owned, int], Request]:
    def prepare(owned: Owned, n: int) -> Request:
        restore(owned)
        body = json.dumps({TARGETS[collection][1]: f"Curated, round {n}."})
        headers = {"If-Match": "*", "Content-Type": "application/merge-patch+json"}
        return "PATCH", record_path(collection), {"data": body, "headers": headers}

    return prepare


def _delete(collection: str) -> Callable[[Owned, int], Request]:
    def prepare(owned: Owned, n: int) -> Request:
        restore(owned)
        url = f"{record_path(collection)}?cascade=true"
        return "DELETE", url, {"headers": {"If-Match": "*"}}

    return prepare


def _new_key(owned: Owned, n: int) -> Request:
    body = {"name": f"made-{uuid.uuid4().hex[:8]}", "owner": OWNER}
    return "POST", "/v1/keys", {"json": body}


def _key_operation(suffix: str, method: str, body: dict | None = None):
    def prepare(owned: Owned, n: int) -> Request:
        name = f"target-{uuid.uuid4().hex[:8]}"
        create_key(name, "write", OWNER)
        return method, f"/v1/keys/{name}{suffix}", {} if body is None else {"json": body}

    return prepare


HOOK = "http://127.0.0.1:9/hook"  # never dialled: no worker runs here


def _new_subscription(owned: Owned, n: int) -> Request:
    return "POST", "/v1/subscriptions", {"json": {"url": HOOK}}


def _subscription_operation(suffix: str, method: str, body: dict | None = None):
    def prepare(owned: Owned, n: int) -> Request:
        made = owned.client.post("/v1/subscriptions", json={"url": HOOK}, **_as(owned, "owner"))
        assert made.status_code == 201, made.json
        url = f"/v1/subscriptions/{made.json['id']}{suffix}"
        return method, url, {} if body is None else {"json": body}

    return prepare


LINK = {
    "record_type": "actor",
    "records": ["irgc", "quds-force"],
    "confidence": 0.5,
    "reason": "The owners test's link.",
}
LINK_ID = "irgc--same-as--quds-force"


def _unlinked(owned: Owned) -> None:
    owned.client.delete(f"/v1/same-as/{LINK_ID}", **_as(owned, "admin"))


def _new_link(owned: Owned, n: int) -> Request:
    _unlinked(owned)
    return "POST", "/v1/same-as", {"json": LINK}


def _reconcile(owned: Owned, n: int) -> Request:
    queries = json.dumps({"q0": {"query": "Ramiro Quispe"}})
    return "POST", "/v1/reconcile", {"data": {"queries": queries}}


def _new_release(owned: Owned, n: int) -> Request:
    return "POST", "/v1/releases", {"json": {"name": f"owners-{uuid.uuid4().hex[:8]}"}}


def _remove_release(owned: Owned, n: int) -> Request:
    older = f"owners-{uuid.uuid4().hex[:8]}"
    for name in (older, f"owners-{uuid.uuid4().hex[:8]}"):  # the latest may not be deleted
        made = owned.client.post("/v1/releases", json={"name": name}, **_as(owned, "admin"))
        assert made.status_code == 201, made.json
    return "DELETE", f"/v1/releases/{older}", {}


def _remove_link(owned: Owned, n: int) -> Request:
    _unlinked(owned)
    made = owned.client.post("/v1/same-as", json=LINK, **_as(owned, "owner"))
    assert made.status_code == 201, made.json
    return "DELETE", f"/v1/same-as/{LINK_ID}", {}


CASES: dict[tuple[str, str], Case] = {
    ("POST", "/v1/briefings"): Case(_import, 201),
    ("DELETE", "/v1/sources/{record_id}"): Case(_remove_source, 200),
    **{
        (method, path.format(c=collection)): Case(prepare(collection), status)
        for collection in TARGETS
        for method, path, prepare, status in (
            ("POST", "/v1/{c}", _create, 201),
            ("PATCH", "/v1/{c}/{{record_id}}", _patch, 200),
            ("DELETE", "/v1/{c}/{{record_id}}", _delete, 204),
        )
    },
    ("POST", "/v1/keys"): Case(_new_key, 201, owned=False),
    ("DELETE", "/v1/keys/{name}"): Case(_key_operation("", "DELETE"), 200, owned=False),
    ("POST", "/v1/keys/{name}/rotate"): Case(
        _key_operation("/rotate", "POST", {"grace_seconds": 60}), 200, owned=False
    ),
    ("POST", "/v1/reconcile"): Case(_reconcile, 200, other=200),
    ("POST", "/v1/same-as"): Case(_new_link, 201, other=201),
    ("DELETE", "/v1/same-as/{link_id}"): Case(_remove_link, 204),
    ("POST", "/v1/releases"): Case(_new_release, 201, owned=False),
    ("DELETE", "/v1/releases/{name}"): Case(_remove_release, 204, owned=False),
    ("POST", "/v1/subscriptions"): Case(_new_subscription, 201, other=201),
    ("PATCH", "/v1/subscriptions/{subscription_id}"): Case(
        _subscription_operation("", "PATCH", {"description": "changed"}), 200, other=404
    ),
    ("DELETE", "/v1/subscriptions/{subscription_id}"): Case(
        _subscription_operation("", "DELETE"), 204, other=404
    ),
    ("POST", "/v1/subscriptions/{subscription_id}/secret"): Case(
        _subscription_operation("/secret", "POST"), 200, other=404
    ),
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def test_every_write_operation_of_the_spec_has_its_case(client):
    spec = client.get("/openapi.json").json
    operations = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in WRITE_METHODS
    }
    assert operations == set(CASES), "a write operation needs its case in CASES"
    for method, path in operations:
        operation = spec["paths"][path][method.lower()]
        responses = operation["responses"]
        if CASES[(method, path)].other == 200:  # a read sent by POST: public, as reads are
            assert "security" not in operation, (method, path)
            continue
        assert "403" in responses, (method, path)
        if CASES[(method, path)].owned and CASES[(method, path)].other == 403:
            assert "owner" in responses["403"]["description"], (method, path)


@pytest.mark.parametrize(("method", "path"), list(CASES), ids=[" ".join(c) for c in CASES])
def test_another_owner_is_refused_and_changes_nothing(owned, method, path):
    case = CASES[(method, path)]
    statuses = {}
    for n, kind in enumerate(KINDS):
        verb, url, arguments = case.prepare(owned, n)
        arguments.setdefault("headers", {}).update(owned.auth(kind))
        allowed = kind == "admin" or (kind == "owner" and case.owned)
        allowed = allowed or (kind == "other owner" and case.other < 400)
        before = None if allowed else owned.state()
        response = owned.client.open(url, method=verb, **arguments)
        statuses[kind] = response.status_code
        if allowed:
            assert response.status_code == case.success, response.get_data(as_text=True)
            continue
        refused = case.other if kind == "other owner" else 403
        problem = assert_problem(response, refused)
        if refused == 403:
            assert (repr(OWNER) if case.owned else "'admin' scope") in problem["detail"], problem
        assert owned.state() == before, f"{kind}'s refused {method} {path} changed something"
    expected = {"other owner": case.other, "owner": case.success if case.owned else 403}
    assert statuses == {**expected, "admin": case.success}


def test_the_two_key_attack_is_refused(owned):
    """The issue's attack: key B deletes the briefing key A imported (If-Match: *)."""
    restore(owned)
    headers = owned.auth("other owner") | {"If-Match": "*"}
    response = owned.client.delete(f"/v1/sources/{ANDES_ID}", headers=headers)
    problem = assert_problem(response, 403)
    assert problem["errors"] == [
        {"path": f"/v1/sources/{ANDES_ID}", "message": f"Owned by {OWNER!r}."}
    ]
    assert owned.client.get(f"/v1/sources/{ANDES_ID}").status_code == 200
    assert owned.import_andes("other owner").status_code == 403  # nor import it again


def test_a_new_source_belongs_to_the_key_that_imported_it(owned):
    baltic = json.dumps(with_text(BALTIC))
    imported = owned.client.post(
        "/v1/briefings", data=baltic, content_type="application/json", **_as(owned, "other owner")
    )
    assert imported.status_code == 201
    headers = owned.auth("owner") | {"If-Match": "*"}
    refused = owned.client.delete(f"/v1/sources/{BALTIC_ID}", headers=headers)
    assert refused.json["errors"][0]["message"] == f"Owned by {OTHER!r}."
    headers = owned.auth("other owner") | {"If-Match": "*"}
    assert owned.client.delete(f"/v1/sources/{BALTIC_ID}", headers=headers).status_code == 200


def _as(owned: Owned, kind: str) -> dict:
    return {"headers": owned.auth(kind)}


def test_a_shared_record_may_be_curated_by_each_of_its_owners_and_the_audit_says_who(owned):
    """`reuters` is cited by the seed (owner `default`) and the Andes briefing (OWNER)."""
    restore(owned)
    path = "/v1/actors/reuters"
    merge = {"Content-Type": "application/merge-patch+json", "If-Match": "*"}
    original = owned.client.get(path).json["description"]
    try:
        for kind in ("owner", "default"):
            body = json.dumps({"description": f"Curated by {kind}."})
            response = owned.client.patch(path, data=body, headers=merge | owned.auth(kind))
            assert response.status_code == 200, response.json
        refused = owned.client.patch(
            path, data='{"description": "Baltic."}', headers=merge | owned.auth("other owner")
        )
        assert_problem(refused, 403)
        assert "'default' or 'team-andes'" in refused.json["detail"]
        assert owned.client.get(path).json["description"] == "Curated by default."
    finally:  # as the briefings have it, so that they can be imported again
        body = json.dumps({"description": original})
        owned.client.patch(path, data=body, headers=merge | owned.auth("admin"))
    audit = owned.client.get("/v1/audit?record=reuters", headers=owned.auth("admin")).json
    updates = [(entry["key"], entry["owner"]) for entry in audit if entry["op"] == "update"]
    assert updates[-3:] == [
        ("andes-writer", OWNER),
        ("seed-writer", "default"),
        ("owners-admin", "default"),
    ]


def test_a_write_may_not_cite_or_cascade_into_another_owners_records(owned):
    """A patch that cites another owner's source anew, and a cascading delete that would
    change records of another owner, are refused whole."""
    merge = {"Content-Type": "application/merge-patch+json", "If-Match": "*"}
    seed_source = "al-monitor-2020-04-07-us-iran-showdown-iraq"
    excerpt = "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves"
    citations = [*owned.bodies["actors"]["citations"], {"source": seed_source, "excerpt": excerpt}]
    restore(owned)
    response = owned.client.patch(
        record_path("actors"),
        data=json.dumps({"citations": citations}),
        headers=merge | owned.auth("owner"),
    )
    problem = assert_problem(response, 403)
    assert problem["errors"] == [
        {"path": f"/v1/sources/{seed_source}", "message": "Owned by 'default'."}
    ]
    before = owned.state()
    cascade = owned.client.delete(
        "/v1/actors/reuters?cascade=true", headers={"If-Match": "*"} | owned.auth("owner")
    )
    problem = assert_problem(cascade, 403)
    assert "'default'" in problem["detail"] and owned.state() == before
