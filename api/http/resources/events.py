"""`/v1/events`: what happened, where, when, who took part, and how many died."""

from api.http.resources.collection import collection_blueprint
from api.queries.events import EVENTS
from schemas.arguments import EventListArgs

blp = collection_blueprint(
    EVENTS,
    EventListArgs,
    description="Events typed with ACLED's event types, each cited to its sentence.",
    list_summary="List events",
    list_description="Events, oldest first by default. Filters combine with AND; a "
    "repeated filter matches any of its values. Dates respect each event's date precision.",
    collection_example="rocket-strike-near-halliburton-2020-04-06",
)
