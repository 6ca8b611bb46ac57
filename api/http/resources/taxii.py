"""A read-only TAXII 2.1 server under `/taxii2/`: discovery, one API root, its collections
(everything, and one per source), their objects, manifests and versions, in TAXII's media
type and error shape (OASIS TAXII 2.1). It follows OASIS's specification rather than this
API's OpenAPI one, so it is a plain Flask blueprint, outside `/openapi.json`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, json, request
from webargs.flaskparser import FlaskParser

from api.http.errors import TAXII_MEDIA_TYPE, abort
from api.http.list_query import cursor_signer
from api.queries import stix, taxii
from api.queries.errors import NotFound
from api.store.models import Source
from schemas.stix import TaxiiFilterArgs, TaxiiObjectArgs

API_ROOT = "briefing"
blp = Blueprint("taxii", __name__, url_prefix="/taxii2")
_parser = FlaskParser(unknown=None)  # the schemas refuse unknown parameters (Meta)
_filter_args, _object_args = TaxiiFilterArgs(), TaxiiObjectArgs()


def namespace() -> uuid.UUID:
    """The deployment's STIX namespace (`STIX_NAMESPACE`)."""
    return current_app.config["STIX_NAMESPACE"]


def base_url() -> str:
    return request.root_url.rstrip("/")


def taxii_json(
    body: dict, headers: dict[str, str] | None = None, objects: list[str] | None = None
) -> Response:
    """A TAXII response: JSON in `application/taxii+json;version=2.1`; `objects`, STIX objects
    as JSON already, joined into its `objects` (left out when there are none)."""
    text = json.dumps(body)
    if objects:
        text = f'{text[:-1]}{", " if body else ""}"objects": [{", ".join(objects)}]}}'
    response = Response(text, 200, content_type=TAXII_MEDIA_TYPE)
    response.headers.update(headers or {})
    response.vary.add("Accept")
    return response


@blp.before_request
def _accepts_taxii() -> None:
    """406 unless the client accepts TAXII 2.1 (or any JSON)."""
    accepted = request.accept_mimetypes
    if not accepted or accepted.best_match([TAXII_MEDIA_TYPE, "application/json"]):
        return
    abort(406, message=f"This server speaks {TAXII_MEDIA_TYPE} only.")


def _api_root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise NotFound(f"No API root {api_root!r}; the API root is {API_ROOT!r}.")


def _collection(uuid_text: str, source: str | None) -> dict[str, Any]:
    if source is None:
        title, description = "Everything", "Every record of this service as STIX 2.1 objects."
    else:
        title, description = f"Source {source}", "The report of one source and what it cites."
    return {
        "id": uuid_text,
        "title": title,
        "description": description,
        "can_read": True,
        "can_write": False,
        "media_types": [stix.STIX_MEDIA_TYPE],
    }


def _collections() -> dict[str, str | None]:
    """{collection id: source slug, None for everything}."""
    ns = namespace()
    found: dict[str, str | None] = {str(uuid.uuid5(ns, "collection/all")): None}
    for (slug,) in Source.select(Source.slug).order_by(Source.published, Source.id).tuples():
        found[str(uuid.uuid5(ns, f"collection/source/{slug}"))] = slug
    return found


def _source_of(collection_id: str) -> str | None:
    collections = _collections()
    if collection_id not in collections:
        raise NotFound(f"No collection {collection_id!r}.")
    return collections[collection_id]


def _selection(args: dict, source: str | None, object_id: str | None = None) -> taxii.Selection:
    """What the request's filters select."""
    versions = args.get("match_version") or ()
    stamps = tuple(v for v in versions if not isinstance(v, str))
    ids = args.get("match_id") or ([object_id] if object_id else None)
    return taxii.Selection(
        source=source,
        added_after=args.get("added_after"),
        types=frozenset(args.get("match_type") or ()),
        ids=tuple(ids) if ids is not None else None,
        versions=stamps,
        spec_versions=tuple(args.get("match_spec_version") or ()),
    )


def _page(args: dict, selection: taxii.Selection) -> taxii.Page:
    after = taxii.decode_position(cursor_signer(), args["next"]) if args.get("next") else None
    return taxii.page(selection, after, args.get("limit") or taxii.DEFAULT_LIMIT, namespace())


def _paged(body: dict, found: taxii.Page) -> tuple[dict, dict[str, str]]:
    """The envelope's `more` and `next`, and the date-added headers."""
    body["more"] = found.more
    if found.more and found.last is not None:
        body["next"] = taxii.encode_position(cursor_signer(), found.last)
    headers = {}
    if found.entries:
        headers["X-TAXII-Date-Added-First"] = stix.timestamp(found.entries[0].added)
        headers["X-TAXII-Date-Added-Last"] = stix.timestamp(found.entries[-1].added)
    return body, headers


@blp.get("/")
def discovery() -> Response:
    """The server: its title and API root."""
    root = f"{base_url()}/taxii2/{API_ROOT}/"
    return taxii_json(
        {
            "title": "briefing-api TAXII 2.1",
            "description": "Briefing records (actors, events, statements, locations, "
            "relations, sources) as STIX 2.1 objects, read-only.",
            "default": root,
            "api_roots": [root],
        }
    )


@blp.get("/<api_root>/")
def api_root(api_root: str) -> Response:
    """The API root: the TAXII version it speaks."""
    _api_root(api_root)
    return taxii_json(
        {
            "title": "briefing-api",
            "description": "Read-only: one collection of everything, one per source.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": current_app.config["MAX_CONTENT_LENGTH"],
        }
    )


@blp.get("/<api_root>/collections/")
def collections(api_root: str) -> Response:
    """Every collection: everything, then one per source."""
    _api_root(api_root)
    found = [_collection(cid, source) for cid, source in _collections().items()]
    return taxii_json({"collections": found})


@blp.get("/<api_root>/collections/<collection_id>/")
def collection(api_root: str, collection_id: str) -> Response:
    """One collection."""
    _api_root(api_root)
    return taxii_json(_collection(collection_id, _source_of(collection_id)))


@blp.get("/<api_root>/collections/<collection_id>/objects/")
def objects(api_root: str, collection_id: str) -> Response:
    """A page of a collection's objects, oldest added first."""
    _api_root(api_root)
    source = _source_of(collection_id)
    args = _parser.parse(_filter_args, request, location="query")
    found = _page(args, _selection(args, source))
    loaded = taxii.load(found.entries, namespace(), base_url())
    return taxii_json(*_paged({}, found), objects=loaded)


@blp.get("/<api_root>/collections/<collection_id>/manifest/")
def manifest(api_root: str, collection_id: str) -> Response:
    """A page of a collection's manifest: each object's id, date added and version."""
    _api_root(api_root)
    source = _source_of(collection_id)
    args = _parser.parse(_filter_args, request, location="query")
    found = _page(args, _selection(args, source))
    body: dict[str, Any] = {}
    if found.entries:
        body["objects"] = taxii.manifests(found.entries, namespace())
    return taxii_json(*_paged(body, found))


def _one(collection_id: str, object_id: str, args: dict) -> taxii.Page:
    source = _source_of(collection_id)
    found = _page(args, _selection(args, source, object_id))
    if not found.entries and not args.get("next"):
        raise NotFound(f"No object {object_id!r} in this collection.")
    return found


@blp.get("/<api_root>/collections/<collection_id>/objects/<object_id>/")
def one_object(api_root: str, collection_id: str, object_id: str) -> Response:
    """An object by its STIX id (its one version: records keep their current one)."""
    _api_root(api_root)
    args = _parser.parse(_object_args, request, location="query")
    found = _one(collection_id, object_id, args)
    loaded = taxii.load(found.entries, namespace(), base_url())
    return taxii_json(*_paged({}, found), objects=loaded)


@blp.get("/<api_root>/collections/<collection_id>/objects/<object_id>/versions/")
def versions(api_root: str, collection_id: str, object_id: str) -> Response:
    """The versions of an object the server holds: its current one."""
    _api_root(api_root)
    args = _parser.parse(_object_args, request, location="query")
    found = _one(collection_id, object_id, args)
    body: dict[str, Any] = {"versions": taxii.versions(found.entries, namespace())}
    return taxii_json(*_paged(body, found))
