"""The integrator's path: a client generated with openapi-python-client from the committed
openapi.yaml calls every operation of a live server and reads typed fields.

It runs once (SQLite, a gunicorn subprocess), not per backend: it tests the spec, and the
backends answer the same JSON (the rest of the suite proves that)."""

from __future__ import annotations

import enum
import functools
import importlib
import io
import json
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import attrs
import pytest
import yaml

from tests.helpers import BRIEFING, live_server

ROOT = Path(__file__).parents[2]
SPEC_FILE = ROOT / "openapi.yaml"
BIN = Path(sys.executable).parent
PACKAGE = "briefing_api_client"


SERVER_ENV: dict[str, str] = {}


def server_env(server: str) -> dict[str, str]:
    """The environment the live server runs with (its database)."""
    return SERVER_ENV


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client-server")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'live.db'}",
        "STREAM_MAX_SECONDS": "0.5",  # the stream's call reads it to its end
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOW_LOOPBACK": "1",
    }
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    subprocess.run([BRIEFING, "seed"], env=env, capture_output=True, check=True)
    subprocess.run(
        [BRIEFING, "release", "create", "seed"], env=env, capture_output=True, check=True
    )
    with live_server(env, workers=1) as (base, _):
        yield base


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The package openapi-python-client generates from openapi.yaml, imported."""
    folder = tmp_path_factory.mktemp("client")
    config = folder / "config.yaml"
    # No content_type_overrides: the spec itself must read without a warning.
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    result = subprocess.run(
        [
            BIN / "openapi-python-client",
            "generate",
            "--path",
            SPEC_FILE,
            "--meta",
            "none",
            "--output-path",
            folder / PACKAGE,
            "--config",
            config,
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def operations() -> list[tuple[str, str, dict, dict]]:
    spec = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                parameters = item.get("parameters", []) + operation.get("parameters", [])
                found.append((method, path, operation, {p["name"]: p for p in parameters}))
    return found


@functools.cache
def optional_fields() -> frozenset[str]:
    """Names of the properties some schema does not require (`distance_km`, `errors`)."""
    schemas = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))["components"]["schemas"]
    return frozenset(
        name
        for schema_name, schema in schemas.items()
        if not schema_name.startswith("Partial")  # a `fields=` page: tested on its own
        for name in schema.get("properties", {})
        if name not in schema.get("required", [])
    )


def no_unset_or_unknown(value: typing.Any, where: str) -> None:
    """Every required field is typed and present (no `Unset`), and every field the server
    sent is known to the spec (no `additional_properties`)."""
    from briefing_api_client.types import Unset  # type: ignore[import-not-found]

    if isinstance(value, Unset):
        # the generator renames a property named like a builtin (`type` -> `type_`)
        assert where.rsplit(".", 1)[-1].removesuffix("_") in optional_fields(), where
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            no_unset_or_unknown(item, f"{where}[{i}]")
    elif attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        assert not extra, f"{where}: fields missing from the spec: {sorted(extra)}"
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                no_unset_or_unknown(getattr(value, field.name), f"{where}.{field.name}")


def call(generated, server: str, method: str, path: str, operation: dict, parameters: dict):
    """Call one operation through the generated client, with the spec's parameter examples."""
    tag = snake(operation["tags"][0]).replace("-", "_")
    module = importlib.import_module(f"{PACKAGE}.api.{tag}.{snake(operation['operationId'])}")
    hints = typing.get_type_hints(module.sync_detailed)
    kwargs = {}
    for name, parameter in parameters.items():
        if parameter["in"] == "path" or parameter.get("required"):
            value = parameter.get("example", parameter["schema"].get("example"))
            hint = hints[name]
            for option in typing.get_args(hint) or (hint,):
                if isinstance(option, type) and issubclass(option, enum.Enum):
                    # a required list of codes (`group_by`) takes each code as the enum
                    value = [option(v) for v in value] if isinstance(value, list) else option(value)
            kwargs[name] = value
    client = generated.Client(base_url=server, raise_on_unexpected_status=True)
    return module.sync_detailed(client=client, **kwargs)


RECORD_TYPES = ("Actor", "Location", "Event", "Statement", "Relation")
# called by test_identity_through_the_generated_client (a link has no example: the seed has none)
IDENTITY = {"reconcileBatch", "createSameAsLink", "getSameAsLink", "deleteSameAsLink"}
# called by test_writes_through_the_generated_client and test_record_writes_...
WRITES = {"createBriefing", "deleteSource", "getAudit", "createRelease", "deleteRelease"}
# called by test_keys_and_owners_through_the_generated_client
WRITES |= {"listKeys", "createKey", "getKey", "revokeKey", "rotateKey"}
WRITES |= {
    f"{op}{record_type}" for op in ("create", "update", "delete") for record_type in RECORD_TYPES
}
# called by test_subscriptions_through_the_generated_client
SUBSCRIPTION_OPERATIONS = {
    "listSubscriptions",
    "createSubscription",
    "getSubscription",
    "updateSubscription",
    "deleteSubscription",
    "rotateSubscriptionSecret",
    "listSubscriptionDeliveries",
}


BYTES = (
    "text/plain",
    "text/event-stream",
    "text/html",
    "application/vnd.sqlite3",
    "application/gzip",
)


def test_every_operation_through_the_generated_client(generated, server):
    called = []
    for method, path, operation, parameters in operations():
        if operation["operationId"] in IDENTITY:
            continue
        if method != "get" or operation.get("security"):
            assert operation["operationId"] in WRITES | SUBSCRIPTION_OPERATIONS, (
                f"add a call of {method.upper()} {path}"
            )
            continue
        response = call(generated, server, method, path, operation, parameters)
        where = operation["operationId"]
        assert response.status_code == 200, (where, response.content[:300])
        if response.headers["Content-Type"].startswith(BYTES):
            assert response.content, where  # a text, a stream, a preview, a download
        else:
            assert response.parsed is not None, where
            no_unset_or_unknown(response.parsed, where)
        called.append(where)
    assert "listEvents" in called and "getActorNetwork" in called


def test_typed_fields_read_as_an_integrator_would(generated, server):
    from briefing_api_client.api.events import get_event, list_events
    from briefing_api_client.api.locations import get_location, list_locations
    from briefing_api_client.api.network import get_actor_network
    from briefing_api_client.models import ListLocationsSort

    client = generated.Client(base_url=server, raise_on_unexpected_status=True)
    events = list_events.sync(client=client, limit=500)
    located = [e for e in events if e.location is not None]
    assert located and all(isinstance(e.location.id, str) for e in located)
    assert any(e.location is None for e in events) or located == events
    event = get_event.sync(client=client, record_id=located[0].id)
    assert event.location.id == located[0].location.id
    assert isinstance(event.type_, enum.Enum) and event.type_.value == located[0].type_.value

    iraq = get_location.sync(client=client, record_id="iraq")
    assert iraq.parent is None and iraq.name == "Iraq"
    base = get_location.sync(client=client, record_id="ain-al-asad-air-base")
    assert base.parent.id and base.ancestors[0].id == "iraq"
    boxed = list_locations.sync(client=client, bbox="38.7,29.0,48.6,37.4", limit=500)
    assert "ain-al-asad-air-base" in {p.id for p in boxed}  # a string, not exploded numbers
    near = list_locations.sync(client=client, near="33.31,44.36", sort=ListLocationsSort.DISTANCE)
    assert near[0].id == "baghdad" and near[0].distance_km < 5
    places = list_locations.sync(client=client, limit=500)
    assert all(
        isinstance(p.coordinate_precision, enum.Enum)
        if p.latitude is not None
        else p.coordinate_precision is None
        for p in places
    )

    graph = get_actor_network.sync(client=client, actor_id="kataib-hezbollah", depth=2)
    kinds = {str(edge.kind) for edge in graph.edges}
    assert "relation" in kinds and kinds - {"relation"}
    assert all(edge.predicate is None for edge in graph.edges if str(edge.kind) != "relation")
    assert all(edge.predicate is not None for edge in graph.edges if str(edge.kind) == "relation")


def test_a_fields_page_through_the_generated_client(generated, server):
    """A page narrowed by `fields=` reads as partial records: the fields asked for typed,
    the others unset; a full page still reads as full records."""
    from briefing_api_client.api.events import list_events
    from briefing_api_client.models import Event, ListEventsFieldsItem, PartialEvent
    from briefing_api_client.types import Unset

    client = generated.Client(base_url=server, raise_on_unexpected_status=True)
    chosen = [ListEventsFieldsItem(name) for name in ("id", "title", "date")]
    page = list_events.sync(client=client, fields=chosen, limit=5)
    assert page and all(type(record) is PartialEvent for record in page)
    for record in page:
        assert isinstance(record.id, str) and isinstance(record.title, str)
        assert record.date is not None and not isinstance(record.date, Unset)
        assert isinstance(record.summary, Unset) and isinstance(record.citations, Unset)
        assert set(record.to_dict()) == {"id", "title", "date"}
    full = list_events.sync(client=client, limit=5)
    assert full and all(type(record) is Event for record in full)


def test_writes_through_the_generated_client(generated, server):
    """Import an invented briefing with a write key, read it back, delete it: typed all along."""
    from briefing_api_client.api.briefings import create_briefing
    from briefing_api_client.api.sources import delete_source, get_source
    from briefing_api_client.models import BriefingBundle
    from briefing_api_client.types import File

    from api.ingest import read_bundle

    created = subprocess.run(
        [BIN / "briefing", "keys", "create", "client-test", "--scope", "write"],
        env=server_env(server),
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    bundle = read_bundle(ROOT / "tests" / "fixtures" / "import" / "baltic.yaml")
    yaml_text = yaml.safe_dump(jsonable(bundle), allow_unicode=True).encode()
    slug = bundle["source"]["id"]
    client = generated.AuthenticatedClient(
        base_url=server, token=key, raise_on_unexpected_status=True
    )
    response = create_briefing.sync_detailed(
        client=client, body=BriefingBundle.from_dict(jsonable(bundle))
    )
    assert response.status_code == 201, response.content[:500]
    assert response.headers["Location"].endswith(f"/v1/sources/{slug}")
    fetched = get_source.sync_detailed(client=client, record_id=slug)
    source = fetched.parsed
    assert source.id == slug and source.counts.events >= 1 and source.version == 1
    as_file = create_briefing.sync_detailed(  # the YAML file as is, as a dry run
        client=client,
        body=File(payload=io.BytesIO(yaml_text), mime_type="application/octet-stream"),
        dry_run=True,
    )
    assert as_file.status_code == 200, as_file.content[:500]
    assert as_file.parsed.changed == 0  # imported already: the same bundle changes nothing
    deleted = delete_source.sync_detailed(
        client=client, record_id=slug, if_match=fetched.headers["ETag"]
    )
    assert deleted.status_code in (200, 204), deleted.content[:500]
    gone = get_source.sync_detailed(client=generated.Client(base_url=server), record_id=slug)
    assert gone.status_code == 404


def test_subscriptions_through_the_generated_client(generated, server):
    """A webhook subscription made, read, changed, its secret rotated, its deliveries listed
    and removed, typed all along."""
    from briefing_api_client.api.subscriptions import (
        create_subscription,
        delete_subscription,
        get_subscription,
        list_subscription_deliveries,
        list_subscriptions,
        rotate_subscription_secret,
        update_subscription,
    )
    from briefing_api_client.models import (
        SubscriptionFilters,
        SubscriptionFiltersRecordTypeItem,
        SubscriptionInput,
        SubscriptionPatch,
    )

    key = key_of(server, "client-hooks", "write")
    client = generated.AuthenticatedClient(
        base_url=server, token=key, raise_on_unexpected_status=True
    )
    made = create_subscription.sync_detailed(
        client=client,
        body=SubscriptionInput(
            url="http://127.0.0.1:9/hook",
            filters=SubscriptionFilters(record_type=[SubscriptionFiltersRecordTypeItem.EVENT]),
        ),
    )
    assert made.status_code == 201, made.content[:500]
    no_unset_or_unknown(made.parsed, "createSubscription")
    assert made.parsed.secret.startswith("whsec_")
    subscription_id = made.parsed.id
    for response in (
        get_subscription.sync_detailed(client=client, subscription_id=subscription_id),
        update_subscription.sync_detailed(
            client=client, subscription_id=subscription_id, body=SubscriptionPatch(enabled=False)
        ),
        rotate_subscription_secret.sync_detailed(client=client, subscription_id=subscription_id),
    ):
        assert response.status_code == 200, response.content[:500]
        no_unset_or_unknown(response.parsed, "subscription")
    assert response.parsed.secret != made.parsed.secret
    listed = list_subscriptions.sync_detailed(client=client)
    assert [s.id for s in listed.parsed] == [subscription_id]
    assert (
        list_subscription_deliveries.sync_detailed(
            client=client, subscription_id=subscription_id
        ).parsed
        == []
    )
    deleted = delete_subscription.sync_detailed(client=client, subscription_id=subscription_id)
    assert deleted.status_code == 204


def key_of(server: str, name: str, scope: str) -> str:
    created = subprocess.run(
        [BIN / "briefing", "keys", "create", name, "--scope", scope],
        env=server_env(server),
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip().splitlines()[-1]


def test_problems_through_the_generated_client(generated, server):
    """A refused bundle (422) and a refused delete (409) read as the one typed Problem: its
    `errors` a list of {path, message}."""
    from briefing_api_client.api.actors import delete_actor, get_actor
    from briefing_api_client.api.briefings import create_briefing
    from briefing_api_client.models import BriefingBundle, Problem, ProblemError

    from api.ingest import read_bundle

    client = generated.AuthenticatedClient(
        base_url=server, token=key_of(server, "client-problems", "write")
    )
    bundle = jsonable(read_bundle(ROOT / "tests" / "fixtures" / "import" / "baltic.yaml"))
    bundle["events"][0]["location"] = "no-such-place"  # typed right, refused by the server
    refused = create_briefing.sync_detailed(client=client, body=BriefingBundle.from_dict(bundle))
    assert refused.status_code == 422, refused.content[:500]
    problem = refused.parsed
    assert isinstance(problem, Problem) and problem.status == 422
    assert problem.detail.startswith("The bundle was refused")
    assert all(isinstance(e, ProblemError) for e in problem.errors)
    assert "events[0].location" in [e.path for e in problem.errors]

    etag = get_actor.sync_detailed(client=client, record_id="kataib-hezbollah").headers["ETag"]
    conflict = delete_actor.sync_detailed("kataib-hezbollah", client=client, if_match=etag)
    assert conflict.status_code == 409, conflict.content[:500]
    problem = conflict.parsed
    assert isinstance(problem, Problem) and problem.status == 409 and problem.errors
    paths = [e.path for e in problem.errors]
    assert all(path.startswith("/v1/") for path in paths), paths
    assert get_actor.sync(client=client, record_id="kataib-hezbollah").id == "kataib-hezbollah"


def jsonable(value: typing.Any) -> typing.Any:
    """A bundle as JSON would carry it (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


CITED = {
    "source": "al-monitor-2020-04-07-us-iran-showdown-iraq",
    "excerpt": "Kataib Hezbollah spokesman Mohammad Mohyee warned against four possible moves "
    "by the United States.",
}
NEW_RECORDS = {
    "Actor": {"id": "client-actor", "name": "Client actor", "kind": "person"},
    "Location": {"id": "client-place", "name": "Client place", "kind": "city", "parent": "iraq"},
    "Event": {
        "id": "client-event",
        "title": "Client event",
        "type": "battles",
        "sub_type": "armed_clash",
        "date": "2020-04-01",
        "date_precision": "day",
        "location": "client-place",
        "fatalities": None,
        "participants": [{"actor": "client-actor", "role": "perpetrator"}],
    },
    "Statement": {
        "id": "client-statement",
        "speakers": ["client-actor"],
        "channel": "statement",
        "text": "A paraphrase.",
        "verbatim": False,
        "date": "2020-04-01",
        "date_precision": "day",
        "events": ["client-event"],
    },
    "Relation": {"subject": "client-actor", "predicate": "member_of", "object": "kataib-hezbollah"},
}


def test_record_writes_through_the_generated_client(generated, server):
    """Create, patch (If-Match) and delete one record of each collection; read the audit."""
    created = subprocess.run(
        [BIN / "briefing", "keys", "create", "client-admin", "--scope", "admin"],
        env=server_env(server),
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    client = generated.AuthenticatedClient(base_url=server, token=key)
    models = importlib.import_module(f"{PACKAGE}.models")
    etags, ids = {}, {}
    for record_type in RECORD_TYPES:
        api = importlib.import_module(f"{PACKAGE}.api.{snake(record_type)}s")
        create = importlib.import_module(f"{api.__name__}.create_{snake(record_type)}")
        body = getattr(models, f"Bundle{record_type}").from_dict(
            NEW_RECORDS[record_type] | {"citations": [CITED]}
        )
        response = create.sync_detailed(client=client, body=body)
        assert response.status_code == 201, (record_type, response.content[:500])
        assert response.parsed.version == 1
        etags[record_type], ids[record_type] = response.headers["ETag"], response.parsed.id
    for record_type in RECORD_TYPES:
        update = importlib.import_module(
            f"{PACKAGE}.api.{snake(record_type)}s.update_{snake(record_type)}"
        )
        body = getattr(models, f"Update{record_type}Body").from_dict({"summary": "Patched."})
        if record_type in ("Actor", "Location", "Relation"):
            body = getattr(models, f"Update{record_type}Body").from_dict(
                {"description": "Patched."}
            )
        response = update.sync_detailed(
            ids[record_type], client=client, body=body, if_match=etags[record_type]
        )
        assert response.status_code == 200, (record_type, response.content[:500])
        assert response.parsed.version == 2
        etags[record_type] = response.headers["ETag"]
    for record_type in reversed(RECORD_TYPES):
        delete = importlib.import_module(
            f"{PACKAGE}.api.{snake(record_type)}s.delete_{snake(record_type)}"
        )
        response = delete.sync_detailed(
            ids[record_type], client=client, if_match=etags[record_type]
        )
        assert response.status_code == 204, (record_type, response.content[:500])
    from briefing_api_client.api.changes import get_audit

    trail = get_audit.sync(client=client, record="client-actor")
    assert [str(entry.op) for entry in trail] == ["create", "update", "delete"]
    assert trail[0].key == "client-admin"


def test_keys_and_owners_through_the_generated_client(generated, server):
    """An admin makes a key for a partner through the client, the partner imports its
    briefing, another owner's key is refused with a typed 403 naming the owner, the key is
    rotated and revoked."""
    from briefing_api_client.api.briefings import create_briefing
    from briefing_api_client.api.keys import create_key, get_key, list_keys, revoke_key, rotate_key
    from briefing_api_client.api.sources import delete_source
    from briefing_api_client.models import BriefingBundle, KeyCreate, KeyRotate, Problem

    from api.ingest import read_bundle

    admin = generated.AuthenticatedClient(
        base_url=server, token=key_of(server, "keys-admin", "admin")
    )
    made = create_key.sync_detailed(
        client=admin, body=KeyCreate.from_dict({"name": "partner-andes", "owner": "andes"})
    )
    assert made.status_code == 201, made.content[:500]
    partner = generated.AuthenticatedClient(base_url=server, token=made.parsed.key)
    assert made.parsed.owner == "andes" and str(made.parsed.state) == "active"
    bundle = jsonable(read_bundle(ROOT / "tests" / "fixtures" / "import" / "andes.yaml"))
    imported = create_briefing.sync_detailed(client=partner, body=BriefingBundle.from_dict(bundle))
    assert imported.status_code == 201, imported.content[:500]
    other = generated.AuthenticatedClient(base_url=server, token=key_of(server, "keys-b", "write"))
    refused = delete_source.sync_detailed(
        client=other, record_id=bundle["source"]["id"], if_match="*"
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, Problem)
    assert "'andes'" in refused.parsed.detail
    rotated = rotate_key.sync_detailed(
        "partner-andes", client=admin, body=KeyRotate.from_dict({"grace_seconds": 60})
    )
    assert rotated.status_code == 200 and rotated.parsed.key != made.parsed.key
    assert "partner-andes" in [key.name for key in list_keys.sync(client=admin)]
    assert get_key.sync(client=admin, name="partner-andes").previous_secret_until is not None
    assert str(revoke_key.sync(client=admin, name="partner-andes").state) == "revoked"
    gone = delete_source.sync_detailed(
        client=partner, record_id=bundle["source"]["id"], if_match="*"
    )
    assert gone.status_code == 401


def test_identity_through_the_generated_client(generated, server):
    """Reconcile a batch, make a same-as link, read it and withdraw it: typed all along."""
    from briefing_api_client.api.reconcile import reconcile_batch
    from briefing_api_client.api.same_as import (
        create_same_as_link,
        delete_same_as_link,
        get_same_as_link,
    )
    from briefing_api_client.models import ReconcileForm, SameAsIn, SameAsInRecordType

    client = generated.Client(base_url=server, raise_on_unexpected_status=True)
    queries = {"q0": {"query": "Kataeb Hizbullah", "type": "armed_group"}}
    answer = reconcile_batch.sync_detailed(
        client=client, body=ReconcileForm(queries=json.dumps(queries))
    )
    assert answer.status_code == 200, answer.content[:300]
    first = answer.parsed["q0"].result[0]
    assert first.id == "actors/kataib-hezbollah" and first.match and first.score >= 90

    created = subprocess.run(
        [BIN / "briefing", "keys", "create", "client-same-as", "--scope", "write"],
        env=server_env(server),
        capture_output=True,
        text=True,
        check=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    writer = generated.AuthenticatedClient(
        base_url=server, token=key, raise_on_unexpected_status=True
    )
    body = SameAsIn(
        record_type=SameAsInRecordType.ACTOR,
        records=["irgc", "quds-force"],
        confidence=0.5,
        reason="A link made by the client test.",
    )
    made = create_same_as_link.sync_detailed(client=writer, body=body)
    assert made.status_code == 201, made.content[:300]
    no_unset_or_unknown(made.parsed, "createSameAsLink")
    link = get_same_as_link.sync(client=client, link_id=made.parsed.id)
    assert link.group == "irgc" and [r.id for r in link.records] == ["irgc", "quds-force"]
    gone = delete_same_as_link.sync_detailed(client=writer, link_id=link.id)
    assert gone.status_code == 204


def test_releases_through_the_generated_client(generated, server):
    """Make a release with an admin key, read it and its diff typed, delete an older one."""
    from briefing_api_client.api.releases import (
        create_release,
        delete_release,
        get_release,
        get_release_diff,
    )
    from briefing_api_client.models import ReleaseCreate

    key = key_of(server, "client-releases", "admin")
    client = generated.AuthenticatedClient(
        base_url=server, token=key, raise_on_unexpected_status=True
    )
    made = create_release.sync_detailed(
        client=client, body=ReleaseCreate(name="client-made", description="By the client.")
    )
    assert made.status_code == 201, made.content[:500]
    assert made.parsed.name == "client-made" and made.parsed.counts.events >= 1
    latest = get_release.sync(client=client, name="latest")
    assert latest.name == "client-made" and latest.seq == made.parsed.seq
    # what other tests on this server wrote since `seed`, and nothing since the release
    since_seed = get_release_diff.sync(client=client, name="seed", other="client-made")
    assert since_seed == get_release_diff.sync(client=client, name="seed", other="now")
    assert get_release_diff.sync(client=client, name="client-made", other="now") == []
    deleted = delete_release.sync_detailed(client=client, name="seed")
    assert deleted.status_code == 204
    gone = get_release.sync_detailed(client=generated.Client(base_url=server), name="seed")
    assert gone.status_code == 410
