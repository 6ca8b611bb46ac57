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
    search,
    sources,
    statements,
    subscriptions,
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
    subscriptions,
    timeline,
    network,
    search,
    facets,
    aggregates,
    vocabularies,
    health,
)
