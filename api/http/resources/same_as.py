"""`/v1/same-as`: curated, reversible links saying that two actors (or two places) are one;
`resolve=same_as` on the lists, facets, aggregates and network reads them."""

from __future__ import annotations

from flask.views import MethodView

from api.http.auth import principal, require, security
from api.http.base import Blueprint, problem_doc
from api.http.errors import abort, forbidden
from api.http.formats import json_only
from api.ingest import Forbidden, same_as
from api.queries.identity import link, links
from api.records import API_PREFIX
from schemas.same_as import SameAsInSchema, SameAsListArgs, SameAsSchema

blp = Blueprint(
    "same-as",
    __name__,
    url_prefix="/v1/same-as",
    description="Same-as links: two records that denote one thing, linked, never merged.",
)


def _served(found: dict) -> dict:
    return found | {"url": f"{API_PREFIX}/same-as/{found['id']}"}


@blp.route("")
class SameAsLinks(MethodView):
    @blp.arguments(SameAsListArgs(), location="query", as_kwargs=False)
    @blp.response(200, SameAsSchema(many=True))
    @blp.doc(operationId="listSameAsLinks")
    def get(self, args: dict):
        """List same-as links

        Every curated link (of a record type; of one record), by id. Links are few and
        curated by hand: the list is not paged.
        """
        json_only()
        return [_served(found) for found in links(args.get("record_type"), args.get("record"))]

    @require("write")
    @blp.arguments(SameAsInSchema, location="json", as_kwargs=False)
    @blp.response(201, SameAsSchema)
    @blp.alt_response(403, **problem_doc("The key lacks the `write` scope. Nothing was written."))
    @blp.alt_response(409, **problem_doc("The two records are linked already."))
    @blp.doc(operationId="createSameAsLink", **security("write"))
    def post(self, data: dict):
        """Link two records as the same thing

        A curated statement that two actors (or two places) denote the same thing, with a
        `confidence`, a `reason` or a `citation` (a verbatim excerpt of a source) or both; the
        key that made it is recorded. Never a merge: both records stay, their ids keep
        working, and deleting the link restores every answer. With `resolve=same_as`, lists,
        facets, aggregates and the network treat each linked group as one, under the
        group's id (the smallest id among its members).
        """
        try:
            slug = same_as.create(data, principal())
        except same_as.Refused as error:
            abort(422, message=f"The link was refused: {error}.", errors=error.errors)
        except same_as.Exists as error:
            abort(409, message=str(error))
        return _served(link(slug)), 201, {"Location": f"{API_PREFIX}/same-as/{slug}"}


@blp.route(
    "/<string:link_id>",
    parameters=[
        {
            "in": "path",
            "name": "link_id",
            "description": "The link's id: its two records' ids in order, "
            "`iraq--same-as--iraqi-government`.",
        }
    ],
)
class SameAsLink(MethodView):
    @blp.response(200, SameAsSchema)
    @blp.alt_response(404, **problem_doc("No same-as link has that id."))
    @blp.doc(operationId="getSameAsLink")
    def get(self, link_id: str):
        """Get one same-as link

        The link by its id (`<id>--same-as--<id>`), with who asserted it and why.
        """
        json_only()
        return _served(link(link_id))

    @require("write")
    @blp.response(204)
    @blp.alt_response(
        403,
        **problem_doc(
            "The key lacks the `write` scope, or its owner is not the owner of the key that "
            "asserted the link: `detail` names the owner needed. An admin key may withdraw "
            "any link. Nothing was changed."
        ),
    )
    @blp.alt_response(404, **problem_doc("No same-as link has that id."))
    @blp.doc(operationId="deleteSameAsLink", **security("write"))
    def delete(self, link_id: str):
        """Withdraw a same-as link

        By a key of the owner of the key that asserted it, or an admin key. Both records
        were never changed: every answer is again what it was before the link.
        """
        try:
            same_as.delete(link_id, principal())
        except same_as.UnknownLink as error:
            abort(404, message=str(error))
        except Forbidden as error:
            forbidden(error)
        return None
