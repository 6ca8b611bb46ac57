"""Rules of places that every briefing keeps (seed/README.md, "locations"): a parent is the one
administrative place that encloses a place, of a higher level than it; a point lies within its
country (its bounding box, from Natural Earth through the country-bounding-boxes package)."""

from __future__ import annotations

from functools import cache

from country_bounding_boxes import country_subunits_by_iso_code

# The administrative kinds, and the kinds each kind of place may have as its parent.
_ADMINISTRATIVE = ("country", "administrative_region", "province", "district", "city")
_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "country": (),
    "administrative_region": ("country",),
    "province": ("country", "administrative_region"),
    "district": ("country", "administrative_region", "province", "city"),
    "city": ("country", "administrative_region", "province", "district"),
    "region": _ADMINISTRATIVE,
    "military_base": _ADMINISTRATIVE,
    "facility": _ADMINISTRATIVE,
}
# Natural Earth's boxes are drawn from a generalised coastline: a point this close (in
# degrees, about 10 km) to a box is taken to be in it.
_MARGIN = 0.1


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _listed(kinds: tuple[str, ...]) -> str:
    names = [_article(kind) for kind in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def parent_problem(kind: str, parent: str, parent_kind: str) -> str | None:
    """Why a place of `kind` cannot have `parent` (of `parent_kind`) as its parent, if so."""
    allowed = _PARENT_KINDS.get(kind, _ADMINISTRATIVE)
    if parent_kind in allowed:
        return None
    if not allowed:
        return f"A {kind} has no parent (the regions it lies in go in `regions`)."
    if parent_kind == "region":
        return (
            f"{parent!r} is {_article(parent_kind)}, not an administrative place: a place lies "
            "in a region through `regions`, and its parent is the administrative place that "
            "encloses it."
        )
    return (
        f"{parent!r} is {_article(parent_kind)}: {_article(kind)}'s parent is {_listed(allowed)}."
    )


@cache
def _boxes(country: str) -> tuple[tuple[float, float, float, float], ...]:
    """(west, south, east, north) of each part of a country; none for a code without data."""
    return tuple(unit.bbox for unit in country_subunits_by_iso_code(country))


def outside_country(latitude: float, longitude: float, country: str) -> str | None:
    """Why the point cannot lie in `country` (ISO alpha-2), if it lies outside every box."""
    boxes = _boxes(country)
    if not boxes or any(
        west - _MARGIN <= longitude <= east + _MARGIN
        and south - _MARGIN <= latitude <= north + _MARGIN
        for west, south, east, north in boxes
    ):
        return None
    spans = "; ".join(
        f"latitude {south:.1f} to {north:.1f}, longitude {west:.1f} to {east:.1f}"
        for west, south, east, north in boxes
    )
    return (
        f"({latitude}, {longitude}) lies outside {country} ({spans}): are latitude and "
        "longitude swapped, a sign lost, or the country wrong?"
    )
