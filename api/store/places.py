"""Each location's place at each administrative level (country, province, district, city),
kept on `location`, and copied onto each event (`Event.country_place_id` ...) so that an
aggregate groups by a province in SQL with neither a join nor a walk of paths.

A location's place at a level is the outermost place of its path (itself included) whose kind
makes that level (`LEVEL_KINDS`), or null. It follows from the paths and kinds alone, so every
writer that changes a path or a kind calls `refresh_levels` for the places it touched and
those within them (a deleted place is set to null by the foreign key). The events' copies are
kept by triggers (`EVENT_PLACE_TRIGGERS`), whoever writes: an event's location set or changed,
a location's levels changed (a deleted location sets its events' location to null, which
fires the first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import peewee as pw

from api.store.db import database, is_postgres
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


def lift_out(location_id: int) -> str:
    """Before the place `location_id` is deleted: the places directly within it move to its
    parent, and every place within it loses its segment of the path, so that they stay within
    the places around it; the path of its parent ("/" for none), whose places' levels
    `refresh_levels` sets once it is gone."""
    row = Location.get_by_id(location_id)
    around = row.path.rstrip("/").rsplit("/", 1)[0] + "/"
    Location.update(parent=row.parent_id).where(Location.parent == row.id).execute()
    Location.update(path=pw.fn.REPLACE(Location.path, row.path, around)).where(
        _path_starts_with(row.path) & (Location.id != row.id)
    ).execute()
    return around


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


# ---------------------------------------------------------------- the events' copies

NO_LOCATION, NOT_AT_LEVEL = -1, 0  # what an event's level column holds instead of a place's id
_LEVEL_COLUMNS = [field.column_name for field in LEVEL_FIELDS.values()]
EVENT_PLACE_TRIGGERS = ("event_places_i", "event_places_u", "location_places_u")  # SQLite's


def _copied(column: str, row: str) -> str:
    """SQL: the value of an event's level `column` for the event `row` (`NEW`, `event`)."""
    return (
        f"COALESCE((SELECT {column} FROM location WHERE id = {row}.location_id), "
        f"CASE WHEN {row}.location_id IS NULL THEN {NO_LOCATION} ELSE {NOT_AT_LEVEL} END)"
    )


def _set_copies(row: str, assign: str = " = ") -> str:
    return ", ".join(f"{c}{assign}{_copied(c, row)}" for c in _LEVEL_COLUMNS)


def event_place_triggers() -> list[str]:
    """The statements that create the missing triggers keeping each event's place at each
    level equal to its location's (`NOT_AT_LEVEL` when it has none there, `NO_LOCATION` when
    the event has no place): PostgreSQL sets the row before it is written, SQLite (whose BEFORE
    triggers cannot) updates the row just written."""
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _LEVEL_COLUMNS)
    to_events = ", ".join(f"{c} = COALESCE(NEW.{c}, {NOT_AT_LEVEL})" for c in _LEVEL_COLUMNS)
    to_events = f"UPDATE event SET {to_events} WHERE location_id = NEW.id"
    if is_postgres():
        set_new = "; ".join(f"NEW.{c} := {_copied(c, 'NEW')}" for c in _LEVEL_COLUMNS)
        existing = _postgres_triggers()  # CREATE TRIGGER locks its table: only those missing
        return [
            "CREATE OR REPLACE FUNCTION event_places() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {set_new}; RETURN NEW; END $$",
            "CREATE OR REPLACE FUNCTION location_places() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {to_events}; RETURN NULL; END $$",
        ] + [
            statement
            for name, statement in (
                (
                    "event_places_i",
                    "CREATE TRIGGER event_places_i BEFORE INSERT OR UPDATE OF location_id "
                    "ON event FOR EACH ROW EXECUTE FUNCTION event_places()",
                ),
                (
                    "location_places_u",
                    "CREATE TRIGGER location_places_u AFTER UPDATE ON location FOR EACH ROW "
                    f"WHEN ({changed}) EXECUTE FUNCTION location_places()",
                ),
            )
            if name not in existing
        ]
    copy = f"UPDATE event SET {_set_copies('new')} WHERE id = new.id"
    changed = changed.replace("IS DISTINCT FROM", "IS NOT").replace("OLD.", "old.")
    return [
        "CREATE TRIGGER IF NOT EXISTS event_places_i AFTER INSERT ON event "
        f"WHEN new.location_id IS NOT NULL BEGIN {copy}; END",
        "CREATE TRIGGER IF NOT EXISTS event_places_u AFTER UPDATE OF location_id ON event "
        f"WHEN new.location_id IS NOT old.location_id BEGIN {copy}; END",
        "CREATE TRIGGER IF NOT EXISTS location_places_u AFTER UPDATE ON location "
        f"WHEN {changed.replace('NEW.', 'new.')} "
        f"BEGIN {to_events.replace('NEW.', 'new.')}; END",
    ]


def _postgres_triggers() -> set[str]:
    query = (
        "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('event'::regclass, 'location'::regclass)"
    )
    return {name for (name,) in database.execute_sql(query)}


def drop_event_place_triggers() -> None:
    """Drop the triggers of `event_place_triggers` (a bulk load copies the places once, at the
    end: `fill_event_places`)."""
    for name in EVENT_PLACE_TRIGGERS:
        table = "location" if name.startswith("location") else "event"
        on = f" ON {table}" if is_postgres() else ""
        database.execute_sql(f"DROP TRIGGER IF EXISTS {name}{on}")


def fill_event_places(where: str = "") -> int:
    """Set each event's place at each level from its location's (the events matching the SQL
    condition `where` on `event`, when given); the number of rows."""
    condition = f" AND ({where})" if where else ""
    if is_postgres():  # a join: one pass over each table
        copies = ", ".join(f"{c} = COALESCE(place.{c}, {NOT_AT_LEVEL})" for c in _LEVEL_COLUMNS)
        sql = (
            f"UPDATE event SET {copies} FROM location AS place "
            f"WHERE place.id = event.location_id{condition}"
        )
    else:
        sql = f"UPDATE event SET {_set_copies('event')} WHERE location_id IS NOT NULL{condition}"
    return database.execute_sql(sql).rowcount


def has_event_places() -> bool:
    """Whether `event` has the place columns yet (a database before their migration has not:
    their triggers wait for them)."""
    return set(_LEVEL_COLUMNS) <= {c.name for c in database.get_columns("event")}
