"""`/v1/identifiers`: which actor or place holds an external identifier (Wikidata, GeoNames,
ISO 3166, crosswalk names), answered directly, without a redirect."""

from flask.views import MethodView

from api.http.base import Blueprint, problem_doc
from api.http.errors import abort
from api.http.formats import json_only
from api.queries.identity import lookup
from api.records import record_url
from schemas.arguments import NoArgs
from schemas.bundle import identifier_problem
from schemas.views import IdentifierLookupSchema

blp = Blueprint(
    "identifiers",
    __name__,
    url_prefix="/v1/identifiers",
    description="Records by their external identifiers.",
)


@blp.route(
    "/<string:scheme>/<string:value>",
    parameters=[
        {"in": "path", "name": "scheme", "example": "wikidata", "description": "The scheme."},
        {"in": "path", "name": "value", "example": "Q796", "description": "The identifier."},
    ],
)
class IdentifierLookup(MethodView):
    @blp.arguments(NoArgs(), location="query", as_kwargs=False)
    @blp.response(200, IdentifierLookupSchema)
    @blp.alt_response(404, **problem_doc("No record holds that identifier, or no such scheme."))
    @blp.doc(operationId="lookupIdentifier")
    def get(self, args: dict, scheme: str, value: str):
        """Look up an external identifier

        Every actor and place holding the identifier `scheme:value` (schemes and their
        formats: `GET /v1/vocabularies`, identifier_schemes), as `{type, id, name, kind,
        url}`: the answer itself, not a redirect, so one call joins your key to ours. The lists
        filter by it too: `GET /v1/actors?identifier=wikidata:Q796`.
        """
        json_only()
        problem = identifier_problem(scheme, value)
        if problem:
            abort(404, message=problem)
        found = lookup(scheme, value)
        for record in found["records"]:
            record["url"] = record_url(record["type"], record["id"])
        return found
