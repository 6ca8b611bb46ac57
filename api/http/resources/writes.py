"""Record writes on a collection's blueprint: `POST /v1/{collection}`, `PATCH` (JSON Merge
Patch, RFC 7396) and `DELETE /v1/{collection}/{id}`, the last two conditional on `If-Match`."""

from __future__ import annotations

from typing import Any, NoReturn

import marshmallow as ma
from flask import Flask, g, request
from flask.views import MethodView
from werkzeug.routing import BaseConverter

from api.http.auth import principal, require, security
from api.http.base import NO_KEY_DOC, Blueprint, problem_doc, problem_example
from api.http.errors import abort, forbidden, refused
from api.http.http_cache import version_of
from api.ingest import TOO_DEEP, Forbidden, SeedError, curation, too_deep_json
from api.queries.collection import Collection, get_record
from api.records import record_url
from schemas.writes import DeleteArgs

MERGE_PATCH = "application/merge-patch+json"
IF_MATCH_PARAMETER = {  # PATCH and DELETE
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {  # `*` or entity tags (RFC 9110 §8.8.3, §13.1.1)
        "type": "string",
        "pattern": r'^ *(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*) *$',
        "example": '"v2"',
    },
    "description": "The record's ETag, from a GET: the write applies only to that version "
    "(RFC 9110 §13.1.1). Without it the write is refused with 428 Precondition Required "
    "(RFC 6585 §3); with an ETag that is not the record's current one, 412 Precondition "
    "Failed. These are the HTTP answers for a conditional request, not validation errors.",
}
PRECONDITION_REQUIRED = (
    "Precondition Required (RFC 6585 §3): `If-Match` is missing. This write is conditional: "
    "it is refused without the ETag of the version it changes, whatever its body, so that it "
    "cannot overwrite a change it has not seen. GET the record and send its `ETag`."
)
PRECONDITION_FAILED = (
    "Precondition Failed (RFC 9110 §13.1.1, §15.5.13): `If-Match` is not the record's current "
    "ETag (someone changed it first) or names no version of it. A header that names no "
    "version is refused before the body is read, as RFC 9110 §13.2.2 orders preconditions "
    "before the method itself; so an unreadable body with such a header is a 412, not a 422."
)


def forbidden_doc(scope: str, what: str, instance: str) -> dict:
    """The 403 of a write: too little scope, or an owner that does not own what it changes."""
    return problem_doc(
        f"The key lacks the `{scope}` scope, or its owner does not own {what} (a source "
        "belongs to the owner of the key that first imported it; a record to the owners of "
        "the sources that support it): `detail` names the owner the write would need, "
        "`errors` each thing refused with its owners. An admin key may change anything. "
        "Nothing was written.",
        problem_example(
            403,
            instance,
            "The key's owner 'partner-b' does not own /v1/sources/partner-a-briefing: this "
            "write needs a key of owner 'partner-a' (or an admin key).",
            "/v1/sources/partner-a-briefing",
            "Owned by 'partner-a'.",
        ),
    )


class RecordIdConverter(BaseConverter):
    """The id in a write's path: any segment but a collection's own views (`/facets`,
    `/aggregate`), so that those do not advertise PATCH and DELETE."""

    regex = r"(?!(?:facets|aggregate)$)[^/]+"


def register_converter(app: Flask, api: Any) -> None:
    """Make `<record_id:...>` known to Flask and to the spec (before the blueprints)."""
    app.url_map.converters["record_id"] = RecordIdConverter
    api.register_converter(RecordIdConverter, lambda converter: {"type": "string"})


def if_match() -> int | None:
    """The version `If-Match` names (None for `*`): 428 without the header, 412 when it
    names no version of a record."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        abort(
            428,
            message="Send If-Match with the record's ETag (from GET): this write is "
            "refused without it, so that it cannot overwrite a change it has not seen.",
        )
    if header == "*":
        return None
    versions = [version_of(tag) for tag in header.split(",")]
    if any(v is not None for v in versions):
        return next(v for v in versions if v is not None)
    abort(412, message="If-Match names no version of this record; GET it for its ETag.")


def json_body(*media_types: str) -> Any:
    """The parsed JSON body: 415 for another media type, 422 when it is not JSON."""
    if request.mimetype not in media_types:
        abort(415, message=f"Send the body as {' or '.join(media_types)}.")
    if too_deep_json(request.get_data(cache=True)):
        abort(
            422,
            message=f"The body is refused: {TOO_DEEP}",
            errors=[{"path": "", "message": TOO_DEEP}],
        )
    body = request.get_json(force=True, silent=True)
    if body is None:
        abort(
            422,
            message="The body is not valid JSON.",
            errors=[{"path": "", "message": "Not valid JSON."}],
        )
    return body


def fail(error: Exception) -> NoReturn:
    """A refused write as its problem (nothing was written)."""
    if isinstance(error, SeedError):
        refused(error, "The record was refused")
    if isinstance(error, Forbidden):
        forbidden(error)
    if isinstance(error, curation.UnknownRecord):
        abort(404, message=str(error))
    if isinstance(error, curation.StaleVersion):
        abort(412, message=f"{error} GET it again, and apply your change to that version.")
    if isinstance(error, curation.Referenced):
        abort(
            409,
            message=str(error),
            errors=[
                {"path": path, "message": f"The {name} refers to it."}
                for path, name in zip(error.paths, error.referrers, strict=True)
            ],
        )
    abort(409, message=str(error))


WRITE_ERRORS = (
    SeedError,
    Forbidden,
    curation.UnknownRecord,
    curation.StaleVersion,
    curation.Exists,
    curation.Referenced,
)


def add_writes(
    blp: Blueprint,
    name: str,
    collection: Collection,
    schema: type[ma.Schema],
    input_schema: type[ma.Schema],
    record_id_doc: dict,
) -> None:
    """Register POST on `/v1/{name}`, PATCH and DELETE on `/v1/{name}/{id}`."""
    singular = collection.name
    a = "an" if singular[0] in "aeiou" else "a"
    example = record_id_doc["example"]
    problems = {
        401: NO_KEY_DOC,
        403: forbidden_doc(
            "write",
            f"the {singular} (or, for a new one, every source it cites)",
            f"{blp.url_prefix}/{example}",
        ),
    }
    invalid = problem_doc(
        "The record has errors, all listed in `errors` (`path` within the record); nothing "
        "was written.",
        problem_example(
            422,
            f"{blp.url_prefix}/{example}",
            "The record was refused (1 problem(s)); nothing was written.",
            "citations[0].excerpt",
            "The excerpt is not in the text of its source.",
        ),
    )
    etag = {"ETag": {"description": "The record's new ETag.", "schema": {"type": "string"}}}

    def respond(written: curation.WriteOutcome, status: int) -> tuple[dict, int, dict]:
        record = get_record(collection, written.id)
        g.record_version = record["version"]
        return record, status, {"Location": record_url(singular, written.id)}

    @blp.route("", endpoint=f"{name}_create")
    class CreateView(MethodView):
        @require("write")
        @blp.response(
            201,
            schema,
            description="Created.",
            headers={
                **etag,
                "Location": {"description": f"The new {singular}.", "schema": {"type": "string"}},
            },
        )
        @blp.alt_response(401, **problems[401])
        @blp.alt_response(403, **problems[403])
        @blp.alt_response(409, **problem_doc(f"A {singular} with that id exists."))
        @blp.alt_response(415, **problem_doc("The body is not application/json."))
        @blp.alt_response(422, **invalid)
        @blp.doc(
            summary=f"Create {a} {singular}",
            description=f"A new {singular} in the bundle format (seed/README.md), each "
            "citation naming its `source`; validated like an import (references, vocabularies, "
            "every excerpt in the stored text of its source). Needs a `write` key.",
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": input_schema}},
            },
            **security("write"),
        )
        def post(self):
            try:
                written = curation.create(name, json_body("application/json"), principal())
            except WRITE_ERRORS as error:
                fail(error)
            return respond(written, 201)

    @blp.route("/<record_id:record_id>", endpoint=f"{name}_write", parameters=[record_id_doc])
    class WriteView(MethodView):
        @require("write")
        @blp.response(200, schema, description="Changed (or already so).", headers=etag)
        @blp.alt_response(401, **problems[401])
        @blp.alt_response(403, **problems[403])
        @blp.alt_response(404, **problem_doc(f"No {singular} has that id."))
        @blp.alt_response(412, **problem_doc(PRECONDITION_FAILED))
        @blp.alt_response(415, **problem_doc(f"The body is not {MERGE_PATCH}."))
        @blp.alt_response(422, **invalid)
        @blp.alt_response(428, **problem_doc(PRECONDITION_REQUIRED))
        @blp.doc(
            summary=f"Change {a} {singular}",
            description=f"A JSON Merge Patch (RFC 7396) of the {singular}'s bundle form (as "
            "POST takes it: `null` removes a field, a list is replaced whole). Needs "
            "`If-Match` with the ETag of a GET, and a `write` key; the result is validated "
            "like an import. The id (a relation's subject, predicate, object) cannot change. "
            "A conditional request (RFC 9110 §13): 428 without `If-Match` (RFC 6585), 412 when "
            "it is not the current ETag.",
            parameters=[IF_MATCH_PARAMETER],
            requestBody={
                "required": True,
                "content": {
                    MERGE_PATCH: {
                        "schema": {
                            "type": "object",
                            "additionalProperties": True,
                            "example": {"description": "Corrected description."},
                        }
                    }
                },
            },
            **security("write"),
        )
        def patch(self, record_id: str):
            expected = if_match()
            patch = json_body(MERGE_PATCH, "application/json")
            try:
                written = curation.update(name, record_id, patch, expected, principal())
            except WRITE_ERRORS as error:
                fail(error)
            return respond(written, 200)

        @require("write")
        @blp.arguments(DeleteArgs, location="query", as_kwargs=True)
        @blp.response(204, description="Deleted; a tombstone is in /v1/changes.")
        @blp.alt_response(401, **problems[401])
        @blp.alt_response(403, **problems[403])
        @blp.alt_response(404, **problem_doc(f"No {singular} has that id."))
        @blp.alt_response(
            409,
            **problem_doc(
                "Other records refer to it: each is named in `errors`, its `path` the "
                "record's path.",
                problem_example(
                    409,
                    f"{blp.url_prefix}/{example}",
                    f"1 record(s) refer to {example!r}: statement a-statement. Change them "
                    "first, or delete with cascade=true.",
                    "/v1/statements/a-statement",
                    "The statement a-statement refers to it.",
                ),
            ),
        )
        @blp.alt_response(412, **problem_doc(PRECONDITION_FAILED))
        @blp.alt_response(428, **problem_doc(PRECONDITION_REQUIRED))
        @blp.doc(
            summary=f"Delete {a} {singular}",
            description="Needs `If-Match` with the ETag of a GET and a `write` key. Refused "
            "(409, naming them) while other records refer to it, unless `cascade=true`. A "
            "conditional request (RFC 9110 §13): 428 without `If-Match` (RFC 6585), 412 when "
            "it is not the current ETag.",
            parameters=[IF_MATCH_PARAMETER],
            **security("write"),
        )
        def delete(self, record_id: str, cascade: bool):
            expected = if_match()
            try:
                curation.delete(name, record_id, expected, cascade, principal())
            except WRITE_ERRORS as error:
                fail(error)
            return None

    CreateView.__name__ = f"{name.title()}Create"
    WriteView.__name__ = f"{name.title()}Write"
