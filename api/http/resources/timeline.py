"""`/v1/timeline`: events and statements merged in date order."""

from flask.views import MethodView

from api.http.base import Blueprint
from api.http.formats import PAGE_HEADERS, count_limit, json_only, page_headers
from api.http.list_query import list_query
from api.queries.timeline import timeline
from schemas.arguments import TimelineArgs
from schemas.examples import TIMELINE_EXAMPLE
from schemas.views import TimelineItemSchema

blp = Blueprint(
    "timeline",
    __name__,
    url_prefix="/v1/timeline",
    description="Events and statements on one time axis.",
)


@blp.route("")
class Timeline(MethodView):
    @blp.arguments(TimelineArgs(), location="query", as_kwargs=False)
    @blp.response(
        200, TimelineItemSchema(many=True), headers=PAGE_HEADERS, example=TIMELINE_EXAMPLE
    )
    def get(self, args: dict):
        """Timeline of events and statements

        Events and statements in one list, oldest first (`sort=-date`: newest first), ties in
        a stable order. Each item is typed (`record_type`), carries its date and precision, a
        title (the event's title or the statement's text), the actors involved (participants
        or speakers), the event's location, and the `url` of the full record.

        The filters mean what they mean on `/v1/events` and `/v1/statements`: `actor`
        matches an event's participants and a statement's speakers and addressees;
        `location` matches events at or inside the place, and statements about such events;
        dates respect each record's precision; `q` is full text. Paged like every list:
        `limit`, the `Link` header's `rel="next"` cursor, and `X-Total-Count` (beyond 10,000
        matches `X-Total-Count-Estimate`, unless `Prefer: count=exact`).
        """
        json_only()
        items, page = timeline(list_query(args), count_limit("json"))
        return items, 200, page_headers(page)
