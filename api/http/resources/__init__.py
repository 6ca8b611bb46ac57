"""One blueprint per collection, then the analyst views, registered in this order."""

from api.http.resources import (
    actors,
    aggregates,
    briefings,
    changes,
    events,
    facets,
    health,
    locations,
    network,
    relations,
    releases,
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
    releases,
    vocabularies,
    health,
)
