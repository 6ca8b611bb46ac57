"""The W3C Reconciliation Service API, version 0.2 (the version OpenRefine speaks): the
query batch a client posts, the candidates, the manifest and the suggest answers.

Types are `actor` and `location`, or one kind of either (`armed_group`, `city`: the kinds of
the two vocabularies do not overlap). Entity ids are record paths under /v1: `actors/iraq`.
Properties are `country` (ISO 3166-1 alpha-2) and the identifier schemes (`wikidata`, ...).
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas import vocabularies as vocab
from schemas.grammar import NO_NUL, QueryArgs, meta

VERSION = "0.2"
MAX_QUERIES = 50
MAX_LIMIT = 25
RECORD_TYPES = {"actor": "An actor of any kind.", "location": "A place of any kind."}


def type_names() -> dict[str, tuple[str, str | None]]:
    """Every type id -> (record type, kind or None), with its name in `TYPE_LABELS`."""
    types: dict[str, tuple[str, str | None]] = {name: (name, None) for name in RECORD_TYPES}
    types.update({kind: ("actor", kind) for kind in vocab.ACTOR_KINDS})
    types.update({kind: ("location", kind) for kind in vocab.LOCATION_KINDS})
    return types


TYPES = type_names()
TYPE_LABELS = {
    **RECORD_TYPES,
    **{kind: f"Actor: {meaning}" for kind, meaning in vocab.ACTOR_KINDS.items()},
    **{kind: f"Location: {meaning}" for kind, meaning in vocab.LOCATION_KINDS.items()},
}
PROPERTIES = {
    "country": "ISO 3166-1 alpha-2 country of the record (IQ).",
    **{scheme: s.meaning for scheme, s in vocab.IDENTIFIER_SCHEMES.items()},
}


class _PropertySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    pid = fields.String(required=True, validate=validate.OneOf(list(PROPERTIES)))
    v = fields.Raw(required=True)

    @ma.post_load
    def values(self, data: dict, **kwargs: Any) -> dict:
        """`v` as a list of strings (a value, a list of them, or `{id}` entities)."""
        raw = data["v"] if isinstance(data["v"], list) else [data["v"]]
        values = []
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                item = item["id"]
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise ma.ValidationError("A string, a number or an {id} entity.", "v")
            values.append(str(item).strip())
        data["v"] = values
        return data


class ReconcileQuerySchema(ma.Schema):
    """One query of a batch."""

    class Meta:
        unknown = ma.RAISE

    query = fields.String(load_default="", validate=[validate.Length(max=500), NO_NUL])
    type = fields.Raw(load_default=None)
    limit = fields.Integer(load_default=5, validate=validate.Range(1, MAX_LIMIT))
    properties = fields.List(fields.Nested(_PropertySchema), load_default=list)
    type_strict = fields.String(validate=validate.OneOf(["any", "should", "all"]))

    @ma.validates("type")
    def check_type(self, value: Any, **kwargs: Any) -> None:
        names = value if isinstance(value, list) else [value]
        for name in names:
            if name is not None and (not isinstance(name, str) or name not in TYPES):
                raise ma.ValidationError(f"Unknown type {name!r}: one of {', '.join(TYPES)}.")

    @ma.validates_schema
    def check_something(self, data: dict, **kwargs: Any) -> None:
        if not data.get("query", "").strip() and not data.get("properties"):
            raise ma.ValidationError("Give a query, properties or both.", "query")


class _Queries(fields.Field):
    """A batch `{"q0": {...}, ...}` given as JSON text (a form field or a query parameter)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, str):
            raise ma.ValidationError("Not a string.")
        if len(value) > 200_000 or "\x00" in value:
            raise ma.ValidationError("At most 200,000 characters, no NUL.")
        text = value
        try:
            batch = json.loads(text)
        except ValueError as error:
            raise ma.ValidationError(f"Not JSON: {error}.") from None
        except RecursionError:
            raise ma.ValidationError("Nested too deeply.") from None
        if not isinstance(batch, dict) or not batch:
            raise ma.ValidationError('An object of queries by key: {"q0": {"query": ...}}.')
        if len(batch) > MAX_QUERIES:
            raise ma.ValidationError(f"At most {MAX_QUERIES} queries in a batch.")
        try:
            return {str(k): ReconcileQuerySchema().load(q) for k, q in batch.items()}
        except ma.ValidationError as error:
            raise ma.ValidationError(error.messages) from None


class ReconcileForm(ma.Schema):
    """The body of `POST /v1/reconcile` (form-encoded, as OpenRefine sends it)."""

    class Meta:
        unknown = ma.RAISE

    queries = _Queries(
        required=True,
        metadata={
            "type": "string",
            "description": "A JSON object of queries by key, each `{query, type, limit, "
            "properties: [{pid, v}], type_strict}`.",
            "example": json.dumps(
                {"q0": {"query": "Kataeb Hizbullah", "type": "armed_group", "limit": 3}}
            ),
        },
    )


class _TypeSchema(ma.Schema):
    id = fields.String(metadata={"example": "armed_group"})
    name = fields.String(metadata={"example": "Actor: A non-state armed group."})


class CandidateSchema(ma.Schema):
    """A record the query may mean."""

    id = fields.String(metadata={"description": "`actors/<id>` or `locations/<id>`."})
    name = fields.String()
    description = fields.String(metadata={"description": "Kind, country and description."})
    type = fields.List(fields.Nested(_TypeSchema))
    score = fields.Float(metadata={"description": "0 to 100: how well the names agree."})
    match = fields.Boolean(
        metadata={"description": "True for at most one candidate: the unambiguous one."}
    )


class CandidatesSchema(ma.Schema):
    result = fields.List(fields.Nested(CandidateSchema))


class _ServiceSchema(ma.Schema):
    service_url = fields.String()
    service_path = fields.String()


class _SuggestSchema(ma.Schema):
    entity = fields.Nested(_ServiceSchema)
    type = fields.Nested(_ServiceSchema)
    property = fields.Nested(_ServiceSchema)


class _ViewSchema(ma.Schema):
    url = fields.String()


class _PreviewSchema(ma.Schema):
    url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class ManifestSchema(ma.Schema):
    """The service manifest OpenRefine reads when the service is added."""

    versions = fields.List(fields.String(), metadata={"example": [VERSION]})
    name = fields.String()
    identifierSpace = fields.String()
    schemaSpace = fields.String()
    documentation = fields.String()
    defaultTypes = fields.List(fields.Nested(_TypeSchema))
    view = fields.Nested(_ViewSchema)
    preview = fields.Nested(_PreviewSchema)
    suggest = fields.Nested(_SuggestSchema)


class PreviewArgs(QueryArgs):
    id = fields.String(
        required=True,
        validate=[validate.Length(1, 220), NO_NUL],
        metadata=meta("The entity: `actors/<id>` or `locations/<id>`.", "actors/kataib-hezbollah"),
    )


class SuggestArgs(QueryArgs):
    prefix = fields.String(
        required=True,
        validate=[validate.Length(1, 200), NO_NUL],
        metadata=meta("What the person has typed so far.", "Kataeb"),
    )
    type = fields.String(
        validate=validate.OneOf(list(TYPES)), metadata=meta("Only records of this type.")
    )
    cursor = fields.Integer(
        load_default=0, validate=validate.Range(0, 100), metadata=meta("Skip this many.")
    )


class SuggestedSchema(ma.Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()


class SuggestionsSchema(ma.Schema):
    result = fields.List(fields.Nested(SuggestedSchema))
