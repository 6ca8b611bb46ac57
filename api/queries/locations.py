"""`location` records: places in a hierarchy, with coordinates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import peewee as pw

from api.queries.collection import Collection
from api.queries.filters import (
    any_of,
    cited_by,
    descendant_location_ids,
    great_circle_km,
    in_bbox,
    near,
)
from api.queries.identity import resolved, same_as_refs, with_identifier
from api.queries.list_query import ListQuery
from api.queries.loading import aliases_for, citations_for, identifiers_for, location_ref, versioned
from api.queries.paging import sorts_for
from api.store.models import Location, LocationAlias, LocationIdentifier, LocationRegion


def _ancestor_slugs(location: Location) -> list[str]:
    """The slugs of the places enclosing `location`, outermost first (from its path)."""
    return location.path.strip("/").split("/")[:-1]


def _regions_for(ids: list[int]) -> dict[int, list[dict]]:
    """{location id: [refs of the regions it also lies in]}, in one query."""
    result: dict[int, list[dict]] = defaultdict(list)
    if ids:
        query = (
            LocationRegion.select(LocationRegion.location, Location)
            .join(Location, on=(LocationRegion.region == Location.id))
            .where(LocationRegion.location.in_(ids))
            .order_by(LocationRegion.id)
        )
        for link in query:
            result[link.location_id].append(location_ref(link.region))
    return result


def _load_locations(locations: list[Location]) -> list[dict]:
    """Location records, each with its parent and the chain of places enclosing it."""
    ids = [location.id for location in locations]
    wanted = {slug for location in locations for slug in _ancestor_slugs(location)}
    ancestors = (
        {a.slug: a for a in Location.select().where(Location.slug.in_(list(wanted)))}
        if wanted
        else {}
    )
    aliases = aliases_for(LocationAlias, LocationAlias.location, ids)
    identifiers = identifiers_for(LocationIdentifier, LocationIdentifier.location, ids)
    same_as = same_as_refs("location", ids)
    regions = _regions_for(ids)
    citations = citations_for("location", ids)
    records = []
    for location in locations:
        chain = [ancestors[s] for s in _ancestor_slugs(location) if s in ancestors]
        records.append(
            {
                "id": location.slug,
                **versioned(location),
                "name": location.name,
                "kind": location.kind,
                "parent": location_ref(chain[-1]) if chain else None,
                "ancestors": [location_ref(a) for a in chain],
                "latitude": location.latitude,
                "longitude": location.longitude,
                "coordinate_precision": location.coordinate_precision,
                "country": location.country,
                "description": location.description,
                "aliases": aliases[location.id],
                "identifiers": identifiers[location.id],
                "same_as": same_as[location.id],
                "regions": regions[location.id],
                "citations": citations[location.id],
            }
        )
    return records


def within(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Places inside any of the named places (not the places themselves)."""
    inside = descendant_location_ids(slugs, "within")
    return Location.id.in_(inside) & Location.slug.not_in(slugs)


LOCATIONS = Collection(
    name="location",
    model=Location,
    sorts=sorts_for({"name": Location.name}),
    default_sort="name",
    filters={
        "kind": any_of(Location.kind),
        "country": any_of(Location.country),
        "within": within,
        "bbox": in_bbox,
        "near": near,
        "source": cited_by("location", Location),
        "identifier": with_identifier("location"),
        "resolve": resolved("location"),
    },
    load=_load_locations,
    distance=great_circle_km,
)
