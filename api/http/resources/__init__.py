"""One blueprint per collection, then the analyst views, registered in this order."""

from api.http.resources import (
    actors,
    aggregates,
    briefings,
    changes,
    events,
    facets,
    health,
    identity,
    locations,
    network,
    relations,
    search,
    sources,
    statements,
    timeline,
    vocabularies,
)

MODULES = (
    events,
    statements,
    actors,
    relations,
    locations,
    sources,
    briefings,
    changes,
    timeline,
    network,
    search,
    facets,
    aggregates,
    vocabularies,
    identity,
    health,
)
