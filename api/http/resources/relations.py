"""`/v1/relations`: who leads, commands, speaks for, succeeded, belongs to or backs whom."""

from api.http.resources.collection import collection_blueprint
from api.queries.relations import RELATIONS
from schemas.arguments import RelationListArgs

blp = collection_blueprint(
    RELATIONS,
    RelationListArgs,
    description="Stated relations between actors, with dates and citations.",
    list_summary="List relations",
    list_description="Relations between actors (also embedded in each actor). `actor` matches "
    "either side; CSV gives the whole graph as an edge list.",
    collection_example="esmail-ghaani--commands--quds-force",
)
