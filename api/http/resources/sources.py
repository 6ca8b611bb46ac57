"""`/v1/sources`: the briefing documents records are extracted from; their text, the bundle
that reproduces each, and removing one."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from api.http.auth import principal, require, security
from api.http.base import NO_KEY_DOC, problem_doc
from api.http.errors import abort, forbidden, refused
from api.http.resources.collection import collection_blueprint
from api.http.resources.writes import (
    IF_MATCH_PARAMETER,
    PRECONDITION_FAILED,
    PRECONDITION_REQUIRED,
    forbidden_doc,
    if_match,
)
from api.ingest import (
    Forbidden,
    SeedError,
    StaleVersion,
    UnknownSource,
    delete_source,
    export_source,
    source_text,
)
from api.queries.sources import SOURCES
from schemas.arguments import SourceListArgs
from schemas.bundle import BriefingBundleSchema
from schemas.imports import ImportSummarySchema

EXAMPLE = "al-monitor-2020-04-07-us-iran-showdown-iraq"

blp = collection_blueprint(
    SOURCES,
    SourceListArgs,
    description="Briefing documents; every record cites one with a verbatim excerpt.",
    list_summary="List sources",
    list_description="Sources, newest first by default.",
    collection_example=EXAMPLE,
)
# The same as the detail route's, so the spec shows one path with GET and DELETE.
RECORD_ID = {
    "in": "path",
    "name": "record_id",
    "example": EXAMPLE,
    "description": "Public id of the source.",
}
SOURCE_ID = {"in": "path", "name": "source_id", "example": EXAMPLE, "description": "Source id."}


def unknown(source_id: str) -> None:
    abort(404, message=f"No source has the id {source_id!r}.")


@blp.route("/<string:record_id>", parameters=[RECORD_ID])
class SourceRemoval(MethodView):
    @require("write")
    @blp.response(200, ImportSummarySchema, description="Removed; what went with it.")
    @blp.alt_response(401, **NO_KEY_DOC)
    @blp.alt_response(403, **forbidden_doc("write", "the source", f"/v1/sources/{EXAMPLE}"))
    @blp.alt_response(404, **problem_doc("No source has that id."))
    @blp.alt_response(412, **problem_doc(PRECONDITION_FAILED))
    @blp.alt_response(
        422,
        **problem_doc(
            "Records of other sources still refer to records only this one supports "
            "(each named in `errors`); nothing was removed."
        ),
    )
    @blp.alt_response(428, **problem_doc(PRECONDITION_REQUIRED))
    @blp.doc(
        summary="Remove a briefing",
        description="Removes the source, its citations, and every record no other source "
        "supports; journaled like every change (a tombstone in the change feed). Needs a key "
        "with the `write` scope of the source's owner (or an admin key) and `If-Match` with "
        "the source's ETag, like every delete: a "
        "conditional request (RFC 9110 §13), 428 without `If-Match` (RFC 6585), 412 when it is "
        "not the current ETag.",
        parameters=[IF_MATCH_PARAMETER],
        **security("write"),
    )
    def delete(self, record_id: str):
        expected = if_match()
        try:
            return delete_source(record_id, by=principal(), expected=expected)
        except Forbidden as error:
            forbidden(error)
        except UnknownSource:
            unknown(record_id)
        except StaleVersion as error:
            abort(412, message=f"The {error} GET it again for its ETag.")
        except SeedError as error:
            refused(error)


@blp.route("/<string:source_id>/text", parameters=[SOURCE_ID])
class SourceText(MethodView):
    @blp.response(
        200,
        description="The source's text, as imported.",
        content_type="text/plain",
        example="US, Iran-backed forces in Iraq may be edging toward showdown ...",
    )
    @blp.alt_response(404, **problem_doc("No source has that id, or it has no stored text."))
    @blp.doc(
        summary="Get a source's text",
        description="The full text (text/plain; charset=utf-8) that every citation and "
        "verbatim quote of the source was checked against when it was imported.",
    )
    def get(self, source_id: str):
        try:
            text = source_text(source_id)
        except UnknownSource:
            unknown(source_id)
        if text is None:
            abort(404, message=f"Source {source_id!r} was loaded without its text.")
        return Response(text, mimetype="text/plain", content_type="text/plain; charset=utf-8")


@blp.route("/<string:source_id>/bundle", parameters=[SOURCE_ID])
class SourceBundle(MethodView):
    @blp.response(200, BriefingBundleSchema, description="The bundle of the source.")
    @blp.alt_response(404, **problem_doc("No source has that id."))
    @blp.doc(
        summary="Get the bundle of a source",
        description="The bundle that reproduces the source, text included: POST it to "
        "/v1/briefings and nothing changes. Citations this source's bundle gave other "
        "sources' excerpts name that source.",
    )
    def get(self, source_id: str):
        try:
            return export_source(source_id)
        except UnknownSource:
            unknown(source_id)
