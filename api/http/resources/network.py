"""`/v1/actors/{actor_id}/network`: the graph of actors around one actor."""

from flask import Response
from flask.views import MethodView

from api.http.base import Blueprint, problem_doc
from api.http.exports import to_graphml
from api.http.formats import MEDIA_TYPES, negotiate
from api.queries.network import network
from schemas.arguments import NetworkArgs
from schemas.examples import NETWORK_EXAMPLE
from schemas.views import NetworkSchema

# Its own blueprint under /v1, so it never shadows the actors blueprint's routes.
blp = Blueprint(
    "network",
    __name__,
    url_prefix="/v1",
    description="Who is connected to whom, and the records that say so.",
)


@blp.route(
    "/actors/<string:actor_id>/network",
    parameters=[
        {
            "in": "path",
            "name": "actor_id",
            "description": "Public id of the actor at the centre of the graph.",
            "example": "kataib-hezbollah",
        }
    ],
)
class Network(MethodView):
    @blp.arguments(NetworkArgs(), location="query", as_kwargs=False)
    @blp.response(200, NetworkSchema, example=NETWORK_EXAMPLE)
    @blp.doc(
        responses={
            "200": {
                "description": "The graph: node-link JSON, or GraphML.",
                "content": {
                    "application/json": {"schema": NetworkSchema, "example": NETWORK_EXAMPLE},
                    "application/graphml+xml": {
                        "schema": {"type": "string", "description": "The graph as GraphML."}
                    },
                },
            }
        }
    )
    @blp.alt_response(404, **problem_doc("No actor has that id."))
    def get(self, args: dict, actor_id: str):
        """Network around an actor

        The actors connected to this one as `nodes`, and the connections as `edges`. Each
        edge says why it exists (`kind`) and cites its evidence: a stated `relation` (with
        its `predicate`, subject to object, and the sentences that state it),
        `co_participation` in events (the `events` ids) or `co_signatory` of statements (the
        `statements` ids). `depth=1` gives the actor's own connections; `depth=2` adds the
        connections of its neighbours (and so the edges among them). At most `limit` nodes
        are returned, nearest and best-connected first, with `truncated` set when some were
        left out; edges are only those between returned nodes.

        Bounded work around hubs: the ties of each actor explored are looked for in its latest
        100 events and statements (the most recently recorded) and its latest 100 relations
        as subject and as object, so around an actor with thousands of records the graph is
        drawn from those, the same for the same data.
        """
        chosen = negotiate(args.get("format"), ("json", "graphml"))
        graph = network(actor_id, args["depth"], args["limit"], args.get("resolve") == "same_as")
        if chosen == "graphml":
            disposition = f'attachment; filename="{actor_id}-network.graphml"'
            return Response(
                to_graphml(graph),
                200,
                {"Content-Disposition": disposition},
                mimetype=MEDIA_TYPES["graphml"],
            )
        return graph
