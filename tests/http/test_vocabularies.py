"""The vocabularies (schemas/vocabularies.py) served at /v1/vocabularies and used by the spec."""

from __future__ import annotations

from playhouse.test_utils import assert_query_count

from schemas import vocabularies as vocab
from tests.helpers import assert_problem


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


def test_vocabularies_run_no_query(client):
    with assert_query_count(0):
        assert client.get("/v1/vocabularies").status_code == 200
