"""Each location's place at each administrative level (country, province, district, city),
kept on `location` so that an aggregate groups by a province in SQL instead of walking paths.

A location's place at a level is the outermost place of its path (itself included) whose kind
makes that level (`LEVEL_KINDS`), or null. It follows from the paths and kinds alone, so every
writer that changes a path or a kind calls `refresh_levels` for the places it touched and
those within them (a deleted place is set to null by the foreign key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import peewee as pw

from api.store.db import is_postgres
from api.store.models import Location

# The kinds of place that make each administrative level (the outermost of them counts).
LEVEL_KINDS: dict[str, tuple[str, ...]] = {
    "country": ("country",),
    "province": ("province", "administrative_region"),
    "district": ("district",),
    "city": ("city",),
}
LEVEL_FIELDS: dict[str, pw.ForeignKeyField] = {
    "country": Location.country_place,
    "province": Location.province_place,
    "district": Location.district_place,
    "city": Location.city_place,
}
_BATCH = 500  # ids per UPDATE


def levels_of(
    path: str, places: Mapping[str, tuple[int, str]]
) -> tuple[int | None, int | None, int | None, int | None]:
    """The ids of the place at each level (LEVEL_KINDS order) of the location at `path`;
    `places` is {slug: (id, kind)} of the places on the path (a slug missing from it, a
    deleted place, is skipped)."""
    found: dict[str, int] = {}
    for slug in path.strip("/").split("/"):
        place = places.get(slug)
        if place is None:
            continue
        for level, kinds in LEVEL_KINDS.items():
            if level not in found and place[1] in kinds:
                found[level] = place[0]
    country, province, district, city = (found.get(level) for level in LEVEL_KINDS)
    return country, province, district, city


def refresh_levels(under: str | None = None) -> int:
    """Set the level columns of the locations at or below the path `under` (every location
    when None) from their paths and kinds; the number of locations changed."""
    query = Location.select(Location.id, Location.path, *LEVEL_FIELDS.values())
    if under is not None:
        query = query.where(_path_starts_with(under))
    rows = list(query.tuples())
    slugs = {slug for row in rows for slug in row[1].strip("/").split("/")}
    places = _kinds(slugs)
    changed: dict[tuple, list[int]] = defaultdict(list)
    for id_, path, *current in rows:
        wanted = levels_of(path, places)
        if tuple(current) != wanted:
            changed[wanted].append(id_)
    for wanted, ids in changed.items():
        values = dict(zip(LEVEL_FIELDS.values(), wanted, strict=True))
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            Location.update(values).where(Location.id.in_(chunk)).execute()
    return sum(len(ids) for ids in changed.values())


def _path_starts_with(prefix: str) -> pw.Expression:
    """A case-sensitive prefix match on the path that its index serves (paths hold only slug
    characters, none of them a wildcard)."""
    if is_postgres():
        return pw.Expression(Location.path, "LIKE", f"{prefix}%")
    return pw.Expression(Location.path, "GLOB", f"{prefix}*")


def _kinds(slugs: Iterable[str]) -> dict[str, tuple[int, str]]:
    """{slug: (id, kind)} of the places named."""
    wanted = sorted(slugs)
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        query = Location.select(Location.slug, Location.id, Location.kind)
        found.update(
            (slug, (id_, kind))
            for slug, id_, kind in query.where(Location.slug.in_(chunk)).tuples()
        )
    return found
