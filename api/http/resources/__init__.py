"""One blueprint per collection, then the analyst views, registered in this order."""

from api.http.resources import (
    actors,
    aggregates,
    briefings,
    changes,
    events,
    facets,
    health,
    keys,
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
    keys,
    timeline,
    network,
    search,
    facets,
    aggregates,
    vocabularies,
    health,
)
