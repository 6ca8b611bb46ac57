"""The reconciliation service (W3C Reconciliation Service API 0.2): its answers validate
against the specification's published JSON schemas (tests/fixtures/reconciliation), and a list
of variant spellings in several scripts finds the intended record first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from tests.helpers import assert_problem

SCHEMAS = Path(__file__).resolve().parent.parent / "fixtures" / "reconciliation"


def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        resource = Resource.from_contents(schema, default_specification=_DRAFT)
        resources += [(schema["$id"], resource), (path.name, resource)]
    return Registry().with_resources(resources)


_DRAFT = Draft7Validator.META_SCHEMA and __import__("referencing.jsonschema").jsonschema.DRAFT7


def validate(document: object, name: str) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    if name == "manifest":  # its `authentication` points to swagger.io: not used here
        schema["properties"].pop("authentication")
    Draft7Validator(schema, registry=_registry()).validate(document)


def ask(client, queries: dict) -> dict:
    validate(queries, "reconciliation-query-batch")
    response = client.post("/v1/reconcile", data={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.json
    validate(response.json, "reconciliation-result-batch")
    return response.json


# (what a client writes, the type it gives or None, the record it means). Latin spellings from
# other transliterations, Arabic and Persian script, Cyrillic, accents, word order.
VARIANTS = [
    ("Kataeb Hizbullah", "armed_group", "actors/kataib-hezbollah"),
    ("Kata'ib Hizballah", None, "actors/kataib-hezbollah"),
    ("Kataib Hizbollah", None, "actors/kataib-hezbollah"),
    ("كتائب حزب الله", None, "actors/kataib-hezbollah"),
    ("Hezbollah Brigades", None, "actors/kataib-hezbollah"),
    ("Asa'ib Ahl al-Haqq", None, "actors/asaib-ahl-al-haq"),
    ("Asaib Ahl el-Haq", "armed_group", "actors/asaib-ahl-al-haq"),
    ("عصائب أهل الحق", None, "actors/asaib-ahl-al-haq"),
    ("Harakat Hizballah al-Nujaba", None, "actors/harakat-hezbollah-al-nujaba"),
    ("حركة النجباء", "armed_group", "actors/harakat-hezbollah-al-nujaba"),
    ("Kataeb Sayyid al-Shuhadaa", None, "actors/kataib-sayyed-al-shuhada"),
    ("Hashd al-Sha'bi", None, "actors/popular-mobilization-units"),
    ("الحشد الشعبي", None, "actors/popular-mobilization-units"),
    ("Popular Mobilisation Forces", None, "actors/popular-mobilization-units"),
    ("Qassem Suleimani", "person", "actors/qasem-soleimani"),
    ("Qasim Sulaymani", None, "actors/qasem-soleimani"),
    ("قاسم سلیمانی", None, "actors/qasem-soleimani"),
    ("Ismail Ghaani", None, "actors/esmail-ghaani"),
    ("Esmaeil Qaani", None, "actors/esmail-ghaani"),
    ("اسماعیل قاآنی", None, "actors/esmail-ghaani"),
    ("Abu Mahdi al-Mohandis", None, "actors/abu-mahdi-al-muhandis"),
    ("أبو مهدي المهندس", None, "actors/abu-mahdi-al-muhandis"),
    ("Abou Mahdi el-Mouhandis", None, "actors/abu-mahdi-al-muhandis"),
    ("Abu Fadak al-Muhamadawi", None, "actors/abu-fadak-al-mohammadawi"),
    ("Adil Abd al-Mahdi", None, "actors/adel-abdul-mahdi"),
    ("عادل عبد المهدي", None, "actors/adel-abdul-mahdi"),
    ("Muhammad Muhyi", None, "actors/mohammad-mohyee"),
    ("Islamic Revolutionary Guards Corps", None, "actors/irgc"),
    ("Sepah-e Pasdaran", None, "actors/irgc"),
    ("Qods Force", None, "actors/quds-force"),
    ("Daesh", None, "actors/islamic-state"),
    ("داعش", None, "actors/islamic-state"),
    ("ISIL", None, "actors/islamic-state"),
    ("Trump, Donald", "person", "actors/donald-trump"),
    ("Kenneth McKenzie", None, "actors/frank-mckenzie"),
    ("Ayn al-Asad", None, "locations/ain-al-asad-air-base"),
    ("Al Asad Airbase", "military_base", "locations/ain-al-asad-air-base"),
    ("Al-Anbar", "province", "locations/anbar-province"),
    ("الأنبار", None, "locations/anbar-province"),
    ("Arbil", None, "locations/erbil-province"),
    ("Hewlêr", None, "locations/erbil-province"),
    ("Baghdād", "city", "locations/baghdad"),
    ("بغداد", "city", "locations/baghdad"),
    ("Al-Basrah", "province", "locations/basra-province"),
    ("Ирак", "country", "locations/iraq"),
]


def test_variant_spellings_find_the_intended_record_first(client):
    queries = {
        f"q{n}": {"query": text} | ({"type": kind} if kind else {})
        for n, (text, kind, _) in enumerate(VARIANTS)
    }
    answers = ask(client, queries)
    misses = []
    for n, (text, _kind, expected) in enumerate(VARIANTS):
        result = answers[f"q{n}"]["result"]
        top = result[0]["id"] if result else None
        if top != expected:
            misses.append((text, expected, [(c["id"], c["score"]) for c in result[:3]]))
    accuracy = 1 - len(misses) / len(VARIANTS)
    print(f"top-1 accuracy {accuracy:.1%} over {len(VARIANTS)} variants; misses: {misses}")
    assert accuracy >= 0.95, misses


def test_a_batch_of_five_as_openrefine_sends_it(client):
    manifest = client.get("/v1/reconcile").json
    validate(manifest, "manifest")
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} >= {"actor", "location", "armed_group"}
    answers = ask(
        client,
        {
            "q0": {"query": "Kataeb Hizbullah", "type": "armed_group", "limit": 3},
            "q1": {"query": "Hizbullah", "type": "armed_group", "limit": 3},
            "q2": {"query": "Qassem Suleimani", "type": "person"},
            "q3": {"query": "Iraq", "properties": [{"pid": "wikidata", "v": "Q796"}]},
            "q4": {
                "query": "Baghdad",
                "type": "city",
                "properties": [{"pid": "country", "v": "IQ"}],
            },
        },
    )
    first = {key: answer["result"][0] for key, answer in answers.items()}
    assert first["q0"]["id"] == "actors/kataib-hezbollah" and first["q0"]["match"]
    # the bare `Hizbullah` is in two militias' names: no match
    assert not any(c["match"] for c in answers["q1"]["result"])
    assert len(answers["q0"]["result"]) <= 3
    assert first["q2"]["id"] == "actors/qasem-soleimani" and first["q2"]["match"]
    # both the state and the country hold Q796: two candidates, no match
    assert {c["id"] for c in answers["q3"]["result"][:2]} == {"actors/iraq", "locations/iraq"}
    assert not any(c["match"] for c in answers["q3"]["result"])
    assert first["q4"]["id"] == "locations/baghdad" and first["q4"]["match"]
    assert sum(c["match"] for answer in answers.values() for c in answer["result"]) <= 5


def test_an_identifier_makes_one_candidate_a_match(client):
    answers = ask(
        client,
        {
            "q0": {
                "query": "Irak",
                "type": "location",
                "properties": [{"pid": "geonames", "v": "99237"}],
            }
        },
    )
    top = answers["q0"]["result"][0]
    assert top["id"] == "locations/iraq" and top["match"] and top["score"] == 100


def test_suggest_and_preview(client):
    suggested = client.get("/v1/reconcile/suggest/entity?prefix=Kataeb&type=armed_group")
    assert suggested.status_code == 200
    validate(suggested.json, "suggest-entities-response")
    assert suggested.json["result"][0]["id"] == "actors/kataib-hezbollah"
    types = client.get("/v1/reconcile/suggest/type?prefix=arm").json
    validate(types, "suggest-types-response")
    assert [t["id"] for t in types["result"]] == ["armed_group"]
    props = client.get("/v1/reconcile/suggest/property?prefix=wiki").json
    validate(props, "suggest-properties-response")
    assert [p["id"] for p in props["result"]] == ["wikidata"]
    preview = client.get("/v1/reconcile/preview?id=locations/iraq")
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    assert "Iraq" in preview.text and "wikidata:Q796" in preview.text
    assert_problem(client.get("/v1/reconcile/preview?id=actors/nobody"), 404)
    assert_problem(client.get("/v1/reconcile/preview?id=events/x"), 404)


@pytest.mark.parametrize(
    "queries",
    [
        "not json",
        "[]",
        "{}",
        json.dumps({"q0": {"query": "x", "type": "planet"}}),
        json.dumps({"q0": {"query": "x", "type": {"id": "actor"}}}),
        json.dumps({"q0": 7}),
        "[" * 100_000,
        json.dumps({"q0": {"query": "x", "limit": 0}}),
        json.dumps({"q0": {"query": "x", "properties": [{"pid": "shoe_size", "v": "42"}]}}),
        json.dumps({"q0": {"query": ""}}),
        json.dumps({"q0": {"query": "x", "colour": "red"}}),
        json.dumps({f"q{n}": {"query": "x"} for n in range(51)}),
    ],
)
def test_a_bad_batch_is_a_422(client, queries):
    problem = assert_problem(client.post("/v1/reconcile", data={"queries": queries}), 422)
    assert problem["errors"] and all(
        e["path"].startswith("form.queries") for e in problem["errors"]
    ), problem


def test_a_record_is_a_candidate_once_however_many_names_fold_alike(curated):
    client = curated.app.test_client()
    path = "/v1/actors/al-monitor"
    etag = client.get(path).headers["ETag"]
    headers = {**curated.auth(), "Content-Type": "application/merge-patch+json", "If-Match": etag}
    body = json.dumps({"aliases": ["Monitor", "Al Monitor"]})  # all fold to `monitor`
    assert client.patch(path, data=body, headers=headers).status_code == 200
    result = ask(client, {"q0": {"query": "el-Monitor"}})["q0"]["result"]
    assert [c["id"] for c in result].count("actors/al-monitor") == 1
    assert result[0]["id"] == "actors/al-monitor" and result[0]["match"]


def test_a_private_deployment_asks_a_key_for_posted_queries_too(curated):
    from api.app import create_app

    app = create_app({"DATABASE_URL": curated.url, "TESTING": True, "READS_REQUIRE_KEY": True})
    private = app.test_client()
    form = {"queries": json.dumps({"q0": {"query": "Kataeb Hizbullah"}})}
    assert_problem(private.post("/v1/reconcile", data=form), 401)
    keyed = private.post("/v1/reconcile", data=form, headers=curated.auth("read"))
    assert keyed.status_code == 200
