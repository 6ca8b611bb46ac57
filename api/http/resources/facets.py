"""`/v1/events/facets` and `/v1/statements/facets`: counts by field, under the lists' filters."""

from flask.views import MethodView

from api.http.base import Blueprint
from api.http.formats import json_only
from api.http.list_query import list_query
from api.queries.facets import event_facets, statement_facets
from schemas.arguments import EventFacetArgs, StatementFacetArgs
from schemas.examples import EVENT_FACETS_EXAMPLE, STATEMENT_FACETS_EXAMPLE
from schemas.views import FacetBucketSchema

# Static segments (`/facets`) win over the collections' `/<record_id>` routes in Flask.
blp = Blueprint(
    "facets",
    __name__,
    url_prefix="/v1",
    description="Counts of events and statements by type, actor, place, channel or month.",
)

SEMANTICS = """Buckets are `[{value, label, count}]`, most frequent first (months in calendar
order); `label` names the actor or place a value identifies. The filters are the list's and
combine the same way: a bucket's count is the list's `X-Total-Count` for the same filters
plus the bucket's value as a filter (`type=`, `actor=`, `location=`, `speaker=`, ...). A
month counts the records whose `date` falls in it."""


TOTAL = {
    "X-Total-Count": {
        "description": "How many values there are in all.",
        "schema": {"type": "integer"},
    }
}


def counted(buckets: list[dict], total: int) -> tuple[list[dict], int, dict]:
    json_only()
    return buckets, 200, {"X-Total-Count": str(total)}


@blp.route("/events/facets")
class EventFacets(MethodView):
    @blp.arguments(EventFacetArgs(), location="query", as_kwargs=False)
    @blp.response(200, FacetBucketSchema(many=True), example=EVENT_FACETS_EXAMPLE, headers=TOTAL)
    @blp.doc(
        description=f"How many of the events matching the filters fall under each value "
        f"of `field`.\n\n{SEMANTICS}"
    )
    def get(self, args: dict):
        """Count events by field"""
        return counted(*event_facets(args.pop("field"), list_query(args)))


@blp.route("/statements/facets")
class StatementFacets(MethodView):
    @blp.arguments(StatementFacetArgs(), location="query", as_kwargs=False)
    @blp.response(
        200, FacetBucketSchema(many=True), example=STATEMENT_FACETS_EXAMPLE, headers=TOTAL
    )
    @blp.doc(
        description=f"How many of the statements matching the filters fall under each "
        f"value of `field`.\n\n{SEMANTICS}"
    )
    def get(self, args: dict):
        """Count statements by field"""
        return counted(*statement_facets(args.pop("field"), list_query(args)))
