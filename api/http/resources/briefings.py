"""`/v1/briefings`: import a briefing bundle (JSON or YAML) in one validated transaction."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from api.http.auth import principal, require, security
from api.http.base import NO_KEY_DOC, Blueprint, problem_doc, problem_example
from api.http.errors import abort, forbidden, refused
from api.http.limits import without_query_budget
from api.http.offload import run_blocking
from api.http.resources.writes import forbidden_doc
from api.ingest import Forbidden, Principal, SeedError, import_body
from api.records import record_url
from schemas.bundle import BriefingBundleSchema
from schemas.imports import ImportArgs, ImportSummarySchema

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
JSON_TYPES = ("application/json",)
# A bundle file sent as is: read as YAML (which reads a JSON bundle too). The spec declares
# YAML this way: client generators have no YAML body type, and read this one as bytes.
FILE_TYPES = ("application/octet-stream",)

blp = Blueprint(
    "briefings",
    __name__,
    url_prefix="/v1/briefings",
    description="Briefing bundles in: one source and every record extracted from it.",
)


@blp.route("")
class Briefings(MethodView):
    @require("write")  # first: a request without a key learns nothing else
    @blp.arguments(ImportArgs, location="query", as_kwargs=True)
    @blp.response(
        201,
        ImportSummarySchema,
        description="Imported.",
        headers={
            "Location": {
                "description": "The imported source: /v1/sources/{id}.",
                "schema": {"type": "string"},
            }
        },
    )
    @blp.alt_response(200, schema=ImportSummarySchema, description="A dry run: nothing written.")
    @blp.alt_response(401, **NO_KEY_DOC)
    @blp.alt_response(
        403,
        **forbidden_doc(
            "write",
            "the source (when it exists: a re-import) or an existing record of another "
            "owner that the bundle would change",
            "/v1/briefings",
        ),
    )
    @blp.alt_response(413, **problem_doc("The body is larger than MAX_BUNDLE_BYTES."))
    @blp.alt_response(
        415, **problem_doc("The body is not application/json, application/octet-stream or YAML.")
    )
    @blp.alt_response(
        422,
        **problem_doc(
            "The bundle has errors, all listed in `errors` (`path` within the bundle); "
            "nothing was written.",
            problem_example(
                422,
                "/v1/briefings",
                "The bundle was refused (1 problem(s)); nothing was written.",
                "events[3].date",
                "Not a real date (YYYY-MM-DD).",
            ),
        ),
    )
    @blp.doc(
        summary="Import a briefing",
        description="Validates the bundle whole (schema, references, every excerpt and "
        "verbatim quote against `source.text`, dates, orphans, ids of other sources), then "
        "writes it in one transaction. Importing a bundle again replaces that source's "
        "contribution: records it no longer contains are removed unless another source "
        "supports them. Format: seed/README.md. Needs a key with the `write` scope; a new "
        "source belongs to the key's owner, and only that owner (or an admin key) may import "
        "it again. A bundle may cite records other owners' sources support (they become "
        "shared), but not change them.",
        requestBody={
            "required": True,
            "description": "The bundle as JSON (`application/json`), or a bundle file as "
            "is (`application/octet-stream`: YAML, as the seed files are written, or JSON). "
            "`application/yaml` (and `application/x-yaml`, `text/yaml`) is accepted too and "
            "means the same as `application/octet-stream`.",
            "content": {
                "application/json": {"schema": BriefingBundleSchema},
                "application/octet-stream": {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "description": "A BriefingBundle file, YAML or JSON (seed/README.md).",
                    }
                },
            },
        },
        **security("write"),
    )
    def post(self, dry_run: bool):
        media_type = request.mimetype
        if media_type not in JSON_TYPES + YAML_TYPES + FILE_TYPES:
            abort(
                415,
                message="Send the bundle as application/json, or as a file "
                "(application/octet-stream or application/yaml).",
            )
        body = request.get_data()  # a 413 over MAX_BUNDLE_BYTES, before anything is parsed
        try:
            report = run_blocking(_import, body, media_type, dry_run, principal(), database=True)
        except SeedError as error:
            refused(error)
        except Forbidden as error:
            forbidden(error)
        if dry_run:
            return report, 200
        return report, 201, {"Location": record_url("source", report.sources[0])}


def _import(body: bytes, media_type: str, dry_run: bool, by: Principal) -> Any:
    """One import, outside the read budget (its time grows with the bundle, which
    MAX_BUNDLE_BYTES bounds)."""
    with without_query_budget():
        return import_body(body, media_type, dry_run=dry_run, by=by)
