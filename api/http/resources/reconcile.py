"""`/v1/reconcile`: a W3C Reconciliation Service API endpoint (version 0.2, the version
OpenRefine speaks) for actors and places: the manifest, batches of queries, previews and
suggestions."""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from markupsafe import escape

from api.http.base import Blueprint, problem_doc
from api.http.formats import json_only
from api.queries.errors import NotFound
from api.queries.identity import IDENTITIES
from api.queries.reconcile import Candidate, Query, reconcile, suggest
from schemas import reconcile as spec
from schemas import vocabularies as vocab
from schemas.arguments import NoArgs
from schemas.urls import absolute

blp = Blueprint(
    "reconcile",
    __name__,
    url_prefix="/v1/reconcile",
    description="Reconciliation (W3C Reconciliation Service API 0.2, as OpenRefine speaks it): "
    "which of our actors or places is the one you name.",
)

_COLLECTIONS = {"actor": "actors", "location": "locations"}
_RECORD_TYPES = {collection: name for name, collection in _COLLECTIONS.items()}


def _types(requested: object) -> tuple[tuple[str, str | None], ...]:
    names = requested if isinstance(requested, list) else [requested]
    chosen = [spec.TYPES[str(name)] for name in names if name is not None]
    return tuple(chosen) or (("actor", None), ("location", None))


def _type_ref(kind: str) -> dict:
    return {"id": kind, "name": spec.TYPE_LABELS[kind]}


def _description(candidate: Candidate) -> str:
    parts = [candidate.kind.replace("_", " ")]
    if candidate.country:
        parts.append(candidate.country)
    if candidate.description:
        parts.append(candidate.description)
    return "; ".join(parts)


def _entity(candidate: Candidate) -> dict:
    return {
        "id": f"{_COLLECTIONS[candidate.record_type]}/{candidate.id}",
        "name": candidate.name,
        "description": _description(candidate),
        "type": [_type_ref(candidate.kind), _type_ref(candidate.record_type)],
        "score": candidate.score,
        "match": candidate.match,
    }


def _query(asked: dict) -> Query:
    country = None
    identifiers: list[tuple[str, str]] = []
    for prop in asked["properties"]:
        if prop["pid"] == "country":
            country = (prop["v"] or [None])[0]
            country = country.upper() if country else None
        else:
            identifiers += [(prop["pid"], value) for value in prop["v"]]
    return Query(
        text=asked["query"],
        types=_types(asked["type"]),
        limit=asked["limit"],
        country=country,
        identifiers=tuple(identifiers),
    )


_CANDIDATES_DOC = {
    "type": "object",
    "description": "The candidates of each query, by the query's key.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "result": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "example": "actors/kataib-hezbollah"},
                        "name": {"type": "string", "example": "Kataib Hezbollah"},
                        "description": {"type": "string"},
                        "type": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                            },
                        },
                        "score": {"type": "number", "example": 95.0},
                        "match": {"type": "boolean"},
                    },
                    "required": ["id", "name", "type", "score", "match"],
                },
            }
        },
        "required": ["result"],
    },
}


@blp.route("")
class Service(MethodView):
    @blp.arguments(NoArgs(), location="query", as_kwargs=False)
    @blp.response(200, spec.ManifestSchema)
    @blp.doc(operationId="getReconcileManifest")
    def get(self, args: dict):
        """The reconciliation service's manifest

        What OpenRefine reads when you add `http://<host>/v1/reconcile` as a reconciliation
        service: versions (`0.2`), the types (`actor`, `location` and each kind), the view
        and preview URLs of an entity (`actors/<id>`, `locations/<id>`) and the suggest
        services. Queries are POSTed to the same URL.
        """
        json_only()
        root = absolute("/v1/") or "/v1/"
        kinds = [*spec.RECORD_TYPES, *vocab.ACTOR_KINDS, *vocab.LOCATION_KINDS]
        return {
            "versions": [spec.VERSION],
            "name": "briefing-api actors and places",
            "identifierSpace": root,
            "schemaSpace": absolute("/v1/vocabularies"),
            "documentation": absolute("/docs"),
            "defaultTypes": [_type_ref(kind) for kind in kinds],
            "view": {"url": root + "{{id}}"},
            "preview": {
                "url": f"{absolute('/v1/reconcile/preview')}?id={{{{id}}}}",
                "width": 400,
                "height": 120,
            },
            "suggest": {
                name: {"service_url": root + "reconcile", "service_path": f"/suggest/{name}"}
                for name in ("entity", "type", "property")
            },
        }

    @blp.arguments(spec.ReconcileForm, location="form", as_kwargs=False)
    @blp.response(200, _CANDIDATES_DOC)
    @blp.doc(operationId="reconcileBatch")
    def post(self, form: dict):
        """Reconcile a batch of names

        A form field `queries`: a JSON object of queries by key, each `{query, type, limit,
        properties, type_strict}`. `type` is `actor`, `location` or a kind (`armed_group`,
        `city`); `properties` refine it: `{pid: "country", v: "IQ"}` and identifiers
        (`{pid: "wikidata", v: "Q796"}`). Names and aliases are compared across scripts and
        spellings (Arabic and Latin forms, accents, `Kataib`/`Kata'ib`/`Kataeb`); each query
        gets its best candidates with a `score` (0-100), and `match: true` on one candidate
        only when it is unambiguous (90 or more, 8 ahead of the next, or the only holder of a
        given identifier).
        """
        json_only()
        answer = {
            key: {"result": [_entity(c) for c in reconcile(_query(asked))]}
            for key, asked in form["queries"].items()
        }
        return current_app.json.response(answer)


@blp.route("/preview")
class Preview(MethodView):
    @blp.arguments(spec.PreviewArgs, location="query", as_kwargs=False)
    @blp.response(200, {"type": "string"}, content_type="text/html")
    @blp.alt_response(404, **problem_doc("No such entity."))
    def get(self, args: dict):
        """A preview of an entity, as HTML

        A small HTML card (name, kind, country, description, aliases, identifiers) that
        OpenRefine shows while a person chooses among candidates.
        """
        collection, _, slug = args["id"].partition("/")
        record_type = _RECORD_TYPES.get(collection)
        if record_type is None:
            raise NotFound(f"No entity {args['id']!r}: actors/<id> or locations/<id>.")
        model = IDENTITIES[record_type].model
        row = model.get_or_none(model.slug == slug)
        if row is None:
            raise NotFound(f"No {record_type} with id {slug!r}.")
        aliases = [a.name for a in row.aliases.order_by(model.aliases.rel_model.id)]
        identifiers = [f"{i.scheme}:{i.value}" for i in row.identifiers]
        lines = [
            f"<strong>{escape(row.name)}</strong> ({escape(row.kind.replace('_', ' '))}"
            + (f", {escape(row.country)}" if row.country else "")
            + ")",
        ]
        if row.description:
            lines.append(f"<p>{escape(row.description)}</p>")
        if aliases:
            lines.append(f"<p>Also: {escape('; '.join(aliases))}</p>")
        if identifiers:
            lines.append(f"<p>{escape(' '.join(identifiers))}</p>")
        body = (
            '<!doctype html><html><head><meta charset="utf-8"><title>'
            f'{escape(row.name)}</title></head><body style="font: 13px sans-serif">'
            + "".join(lines)
            + "</body></html>"
        )
        return Response(body, 200, mimetype="text/html")


def _suggestions(entries: list[dict], cursor: int) -> dict:
    return {"result": entries[cursor : cursor + 10]}


@blp.route("/suggest/entity")
class SuggestEntity(MethodView):
    @blp.arguments(spec.SuggestArgs, location="query", as_kwargs=False)
    @blp.response(200, spec.SuggestionsSchema)
    def get(self, args: dict):
        """Suggest actors and places as a person types

        The records whose names and aliases come closest to `prefix` (of `type`, when
        given), for an auto-complete box.
        """
        json_only()
        found = suggest(args["prefix"], _types(args.get("type")), args["cursor"] + 10)
        entries = [
            {k: v for k, v in _entity(c).items() if k in ("id", "name", "description")}
            for c in found
        ]
        return _suggestions(entries, args["cursor"])


@blp.route("/suggest/type")
class SuggestType(MethodView):
    @blp.arguments(spec.SuggestArgs, location="query", as_kwargs=False)
    @blp.response(200, spec.SuggestionsSchema)
    def get(self, args: dict):
        """Suggest types (actor and location kinds)

        The types whose id contains `prefix`: `actor`, `location` and their kinds, for
        OpenRefine's type box.
        """
        json_only()
        prefix = args["prefix"].lower()
        entries = [
            {"id": kind, "name": label, "description": label}
            for kind, label in spec.TYPE_LABELS.items()
            if prefix in kind.replace("_", " ") or prefix in kind
        ]
        return _suggestions(entries, args["cursor"])


@blp.route("/suggest/property")
class SuggestProperty(MethodView):
    @blp.arguments(spec.SuggestArgs, location="query", as_kwargs=False)
    @blp.response(200, spec.SuggestionsSchema)
    def get(self, args: dict):
        """Suggest properties (country and identifier schemes)

        The properties a query can be refined by whose id contains `prefix`: `country` and
        the identifier schemes (`wikidata`, `geonames`, ...).
        """
        json_only()
        prefix = args["prefix"].lower()
        entries = [
            {"id": pid, "name": pid, "description": meaning}
            for pid, meaning in spec.PROPERTIES.items()
            if prefix in pid
        ]
        return _suggestions(entries, args["cursor"])
