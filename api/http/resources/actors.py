"""`/v1/actors`: people, groups, states, bodies, units, companies and outlets."""

from api.http.resources.collection import collection_blueprint
from api.queries.actors import ACTORS
from schemas.arguments import ActorListArgs

blp = collection_blueprint(
    ACTORS,
    ActorListArgs,
    description="Actors with their aliases and relations.",
    list_summary="List actors",
    list_description="Actors by name. `q` searches names, aliases, titles and descriptions.",
    collection_example="kataib-hezbollah",
)
