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
    stix,
    taxii,
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
    stix,
    vocabularies,
    health,
)
# protocols with a specification of their own, outside the OpenAPI one (plain Flask blueprints)
PROTOCOLS = (taxii,)
