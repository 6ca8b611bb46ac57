"""STIX 2.1 bundles: of a selection (`/v1/stix`), of a list's every matching record
(`format=stix`) and of one record, streamed in batches like the NDJSON exports."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

from flask import Response, current_app, json, request, stream_with_context

from api.http.errors import abort
from api.queries import stix, taxii
from api.queries.collection import Collection
from api.queries.list_query import ListQuery
from api.queries.listing import list_page
from api.queries.paging import Page
from api.records import named

STIX_MEDIA_TYPE = stix.STIX_MEDIA_TYPE
BATCH = 500

BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A STIX 2.1 bundle (OASIS STIX 2.1, section 8): `objects` holds the STIX "
    "objects (README: the mapping of each record type).",
    "required": ["type", "id"],
    "properties": {
        "type": {"type": "string", "enum": ["bundle"]},
        "id": {"type": "string", "example": "bundle--0b9e2bd4-1e5f-4bd4-9a0c-2f3e4d5c6b7a"},
        # any STIX object: its properties depend on its type (OASIS STIX 2.1; README: the
        # mapping), so they are not listed here
        "objects": {
            "type": "array",
            "items": {"description": "A STIX 2.1 object: its `type` says which."},
        },
    },
}


def accepts_stix() -> None:
    """406 unless the client accepts a STIX bundle (or any JSON)."""
    accepted = request.accept_mimetypes
    if accepted and accepted.best_match([STIX_MEDIA_TYPE, "application/json"]) is None:
        abort(406, message=f"Acceptable formats: {STIX_MEDIA_TYPE}.")


def bundle(objects: Iterable[dict | str]) -> Iterator[str]:
    """A bundle of `objects` (or of their JSON) as JSON text, written as they come (`objects`
    left out when there are none: STIX wants one or more)."""
    yield f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}"'
    written = False
    for obj in objects:
        text = obj if isinstance(obj, str) else json.dumps(obj)
        yield (", " if written else ', "objects": [') + text
        written = True
    yield "]}" if written else "}"


def selection_objects(
    selection: taxii.Selection, namespace: uuid.UUID, base_url: str
) -> Iterator[str]:
    """Every object of `selection`, read in keyset batches (TAXII's collection order); the
    first batch is read now, before the response starts."""
    first = taxii.page(selection, None, BATCH, namespace)
    return _batches(selection, namespace, base_url, first)


def _batches(
    selection: taxii.Selection, namespace: uuid.UUID, base_url: str, found: taxii.Page
) -> Iterator[str]:
    while True:
        yield from taxii.load(found.entries, namespace, base_url)
        if not found.more or found.last is None:
            return
        after = (found.last.added, found.last.rank, found.last.row_id)
        found = taxii.page(selection, after, BATCH, namespace)


def bundle_of_selection(
    selection: taxii.Selection, namespace: uuid.UUID, base_url: str
) -> Iterator[str]:
    return bundle(selection_objects(selection, namespace, base_url))


def _list_objects(
    collection: Collection, asked: ListQuery, first: tuple[list, Page]
) -> Iterator[dict]:
    """The shared objects, then every record of a list as STIX, batch by batch from the
    `first` (read before the response starts: a bad filter is a 422, not a cut stream)."""
    namespace = current_app.config["STIX_NAMESPACE"]
    base_url = request.root_url.rstrip("/")
    yield from stix.shared_objects()
    records, page = first
    while True:
        ctx = stix.context_for(namespace, base_url, {collection.name: records})
        for record in records:
            yield stix.to_stix(collection.name, record, ctx)
        if not page.next_cursor:
            return
        records, page = list_page(collection, asked.at(page.next_cursor), 0)


def list_bundle_response(collection: Collection, asked: ListQuery) -> Response:
    """`format=stix` on a list: every matching record in one bundle, streamed (no paging)."""
    asked = asked.at(None, BATCH)
    first = list_page(collection, asked, 0)
    body = stream_with_context(bundle(_list_objects(collection, asked, first)))
    name = named(collection.name).collection
    headers = {"Content-Disposition": f'attachment; filename="{name}.stix.json"'}
    return Response(body, 200, headers, content_type=STIX_MEDIA_TYPE)


def record_bundle_response(record_type: str, record: dict) -> Response:
    """One record's STIX object, in a bundle with the producer and the extension."""
    namespace = current_app.config["STIX_NAMESPACE"]
    ctx = stix.context_for(namespace, request.root_url.rstrip("/"), {record_type: [record]})
    objects = [*stix.shared_objects(), stix.to_stix(record_type, record, ctx)]
    return Response("".join(bundle(objects)), 200, content_type=STIX_MEDIA_TYPE)
