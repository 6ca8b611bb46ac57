"""`/v1/stix`: every record (or those one source cites) as one STIX 2.1 bundle, streamed."""

from __future__ import annotations

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView

from api.http import stix_export
from api.http.base import Blueprint
from api.queries import taxii
from schemas.stix import StixExportArgs

blp = Blueprint(
    "stix",
    __name__,
    url_prefix="/v1",
    description="The data in STIX 2.1, the threat-intelligence ecosystem's format (the same "
    "objects the TAXII 2.1 server at `/taxii2/` serves; README has the mapping).",
)

BUNDLE_DOC = {
    "200": {
        "description": "A STIX 2.1 bundle, streamed.",
        "content": {
            stix_export.STIX_MEDIA_TYPE: {
                "schema": stix_export.BUNDLE_SCHEMA,
            }
        },
    }
}


@blp.route("/stix")
class Bundle(MethodView):
    @blp.arguments(StixExportArgs(), location="query", as_kwargs=False)
    @blp.doc(
        summary="Export a STIX bundle",
        description="Every record as a STIX 2.1 object in one bundle, streamed: sources as "
        "`report`, actors as `identity` or `threat-actor`, places as `location`, relations "
        "as `relationship`, events as `incident`, statements as `note`, each citation an "
        "external reference with its excerpt; deleted records revoked. Ids are UUIDv5 of "
        "the public ids, so a re-export updates rather than duplicates. `source=` keeps one "
        "source's report and what it cites, `type=` some STIX types, `added_after=` what "
        "was written or deleted since.",
        responses=BUNDLE_DOC,
    )
    def get(self, args: dict):
        stix_export.accepts_stix()
        selection = taxii.Selection(
            source=args.get("source"),
            added_after=args.get("added_after"),
            types=frozenset(args.get("type") or ()),
        )
        namespace = current_app.config["STIX_NAMESPACE"]
        base = request.root_url.rstrip("/")
        body = stix_export.bundle_of_selection(selection, namespace, base)
        headers = {"Content-Disposition": 'attachment; filename="briefing.stix.json"'}
        return Response(
            stream_with_context(body), 200, headers, content_type=stix_export.STIX_MEDIA_TYPE
        )
