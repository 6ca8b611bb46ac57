"""Records' STIX objects kept rendered as JSON (`stix_json`), as events' records are kept in
`event_json` (api/queries/rendered.py): a TAXII page or a STIX export reads 1,000 stored bodies
and joins them, instead of building 1,000 records and mapping each to STIX.

- A writer renders what it made stale before its transaction ends (`refresh`): the triggers of
  api/store/ddl.py `STALE_STIX` mark (`stix_stale`) every object whose own row, links or
  citations changed, whoever wrote it. Sources' reports are not kept: they list what cites them.
- What an object copies from other records (the kind of an actor it refers to, a speaker's
  name, the places around a place, a cited source's title and url) is marked once per record
  (`~actor`, ..., `FANOUT_STIX`), however many objects copy it: `settle` renders those objects
  after the write's answer, and until it has, a reader renders them on the spot (`_stored`
  leaves out what `DEPENDENTS` of a marked record names among a page's objects).
- A body is stored under the namespace of the app that rendered it (`use_namespace`), its
  links to this API written from the root (`/v1/...`): a reader takes a body whose id is the
  one its own namespace gives (`objects`) and writes its own root into the links; a body that
  is stale, missing or of another namespace is rendered on the spot.
- A body is exactly what a fresh rendering gives (tests/queries/test_stix_kept.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import peewee as pw

from api.config import DEFAULT_STIX_NAMESPACE
from api.queries import stix
from api.queries.actors import ACTORS, load_actors_alone
from api.queries.events import EVENTS
from api.queries.loading import model_columns, prepared, typed_rows
from api.queries.locations import LOCATIONS
from api.queries.relations import RELATIONS, relations_by_id
from api.queries.sources import SOURCES
from api.queries.statements import STATEMENTS
from api.store.db import database
from api.store.ddl import FANOUT_MARK, FANOUT_STIX, exclusive
from api.store.models import StixAdded, StixJson, StixStale, utcnow

KEPT = {c.name: c for c in (ACTORS, LOCATIONS, RELATIONS, EVENTS, STATEMENTS)}
_LOADED = {**KEPT, SOURCES.name: SOURCES}
BATCH = 1_000
# a write renders at most this many stale objects (as api/queries/rendered.py, and for the
# same reason); readers render the rest meanwhile
_REFRESH_AT_MOST = 5_000
_SEPARATORS = (",", ":")  # bodies are stored compact
_SELF_LINK = '"url":"/v1/'  # how a body's link to its record starts (stix._common)

_namespace = [DEFAULT_STIX_NAMESPACE]

# The objects that copy from a record (api/store/ddl.py FANOUT_STIX): {marked type: [(type of
# the objects, FROM, their id, WHERE naming the marked ids as {marked})]}
_ACTOR_LINKS = ("speaker", "principal", "addressee", "mention")
DEPENDENTS: dict[str, list[tuple[str, str, str, str]]] = {
    "actor": [
        ("event", "event_participant", "event_id", "actor_id IN ({marked})"),
        ("event", "event_casualty", "event_id", "side_id IN ({marked})"),
        ("relation", "relation", "id", "subject_id IN ({marked})"),
        ("relation", "relation", "id", "object_id IN ({marked})"),
        *(
            ("statement", f"statement_{link}", "statement_id", "actor_id IN ({marked})")
            for link in _ACTOR_LINKS
        ),
        ("statement", "statement", "id", "outlet_id IN ({marked})"),
    ],
    "source": [
        (kept, "citation", "record_id", f"record_type = '{kept}' AND source_id IN ({{marked}})")
        for kept in ("actor", "location", "relation", "event", "statement")
    ],
    "location": [  # the places within it show its name (administrative_area, city) and its id
        (
            "location",
            "location AS place, location AS marked",
            "place.id",
            "marked.id IN ({marked}) AND substr(place.path, 1, length(marked.path)) = marked.path",
        )
    ],
}
SETTLE_BATCH = 500  # objects rendered per transaction of `settle` (the write lock held)


def use_namespace(namespace: uuid.UUID) -> None:
    """The namespace writers of this process render under (`STIX_NAMESPACE`, set by the app)."""
    _namespace[0] = namespace


class Entry(Protocol):
    """A collection's object as api/queries/taxii.py lists it."""

    @property
    def record_type(self) -> str: ...
    @property
    def row_id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def kind(self) -> str | None: ...


def records_of(record_type: str, row_ids: list[int]) -> list[dict]:
    """The records of rows of one type as the JSON API writes them, in `row_ids` order."""
    collection = _LOADED[record_type]
    model = collection.model
    position = {row_id: i for i, row_id in enumerate(row_ids)}
    if collection is RELATIONS:  # read as rows, not models: a page holds a thousand
        found = sorted(relations_by_id(row_ids), key=lambda pair: position[pair[0].id])
        return [record for _row, record in found]
    # rows as dicts read like models (loading.Row) where the loader reads plain columns only
    if (collection.light_rows and collection.base_query is None) or collection is ACTORS:
        fields, names = model_columns(model)
        cursor = prepared(
            f"taxii-rows:{record_type}",
            lambda ids: model.select(*fields).where(model.id.in_(ids)).tuples(),
            row_ids,
        )
        rows: list[Any] = list(typed_rows(cursor, fields, names))
    else:
        rows = [collection.row(r) for r in collection.query().where(model.id.in_(row_ids))]
    rows.sort(key=lambda row: position[row.id])
    if collection.rendered is not None:
        return [json.loads(body) for body in collection.records(rows, as_json=True)]
    if collection is ACTORS:
        return load_actors_alone(rows)
    return collection.load(rows)


def render(
    record_type: str, row_ids: list[int], namespace: uuid.UUID | None = None
) -> dict[int, tuple[str, str]]:
    """{row id: (JSON, modified)} of the objects of these records (those that exist), links
    written from the root."""
    found: dict[int, tuple[str, str]] = {}
    for at in range(0, len(row_ids), BATCH):
        ids = row_ids[at : at + BATCH]
        records = records_of(record_type, ids)
        ctx = stix.context_for(namespace or _namespace[0], "", {record_type: records})
        model = KEPT[record_type].model
        slugs = dict(model.select(model.slug, model.id).where(model.id.in_(ids)).tuples())
        for record in records:
            obj = stix.to_stix(record_type, record, ctx)
            found[slugs[record["id"]]] = (json.dumps(obj, separators=_SEPARATORS), obj["modified"])
    return found


def _store(record_type: str, bodies: dict[int, tuple[str, str]]) -> None:
    """Write rendered objects over what their records had (in the caller's transaction)."""
    if not bodies:
        return
    param = database.param  # the SQL written here: peewee builds 1,000 rows slowly
    ids = ", ".join([param] * len(bodies))
    database.execute_sql(
        f"DELETE FROM stix_json WHERE record_type = {param} AND record_id IN ({ids})",
        [record_type, *bodies],
    )
    values = ", ".join([f"({param}, {param}, {param}, {param})"] * len(bodies))
    database.execute_sql(
        f"INSERT INTO stix_json (record_type, record_id, body, modified) VALUES {values}",
        [v for row_id, pair in bodies.items() for v in (record_type, row_id, *pair)],
    )


def _store_again(record_type: str, bodies: dict[int, tuple[str, str]]) -> None:
    """Write objects rendered again after a record they copy from changed; those with a new
    version are added to collections now (`stix_added`: api/queries/taxii.py lists them so)."""
    if not bodies:
        return
    param = database.param
    ids = ", ".join([param] * len(bodies))
    before = database.execute_sql(
        f"SELECT record_id, modified FROM stix_json WHERE record_type = {param} "
        f"AND record_id IN ({ids})",
        [record_type, *bodies],
    )
    was = dict(before.fetchall())
    _store(record_type, bodies)
    newer = [row_id for row_id, (_body, modified) in bodies.items() if was.get(row_id) != modified]
    if not newer:
        return
    StixAdded.delete().where(
        (StixAdded.record_type == record_type) & StixAdded.record_id.in_(newer)
    ).execute()
    now = utcnow()
    StixAdded.insert_many(
        [{"record_type": record_type, "record_id": row_id, "added": now} for row_id in newer]
    ).execute()


def refresh(at_most: int | None = _REFRESH_AT_MOST) -> int:
    """Render the stale objects again (at most `at_most`; None: all), in the caller's
    transaction; how many. Called last in every write, under the write lock. One query finds
    a batch of marks of every kept type (a write marks one or two objects: not a query per
    type); the marks of changed records whose dependents `settle` renders are left to it."""
    done = 0
    marks = (
        StixStale.select(StixStale.record_type, StixStale.record_id)
        .where(StixStale.record_type.in_(list(KEPT)))
        .order_by(StixStale.record_type, StixStale.record_id)
    )
    while at_most is None or done < at_most:
        size = BATCH if at_most is None else min(BATCH, at_most - done)
        by_type: dict[str, list[int]] = {}
        for record_type, row_id in marks.limit(size).tuples():
            by_type.setdefault(record_type, []).append(row_id)
        if not by_type:
            break
        for record_type, ids in by_type.items():
            bodies = render(record_type, ids)
            gone = [row_id for row_id in ids if row_id not in bodies]
            if gone:  # no such record any more (its row should have gone with it)
                StixJson.delete().where(
                    (StixJson.record_type == record_type) & StixJson.record_id.in_(gone)
                ).execute()
            _store(record_type, bodies)
            StixStale.delete().where(
                (StixStale.record_type == record_type) & StixStale.record_id.in_(ids)
            ).execute()
            done += len(ids)
    return done


def fill(after: dict[str, int] | None = None) -> int:
    """Render every record whose id is above `after[its type]` (0 when not given), whatever it
    had (a bulk load that wrote without the triggers), in the caller's transaction; how many."""
    done = 0
    for record_type, collection in KEPT.items():
        last = (after or {}).get(record_type, 0)
        for table in (StixJson, StixStale):
            table.delete().where(
                (table.record_type == record_type) & (table.record_id > last)
            ).execute()
        model = collection.model
        while True:
            query = model.select(model.id).where(model.id > last).order_by(model.id)
            ids = [row_id for (row_id,) in query.limit(BATCH).tuples()]
            if not ids:
                break
            _store(record_type, render(record_type, ids))
            done, last = done + len(ids), ids[-1]
    return done


def marked() -> dict[str, list[int]]:
    """{record type: row ids} of the records whose change the objects copying from them do not
    show yet (`settle` renders those)."""
    types = [f"{FANOUT_MARK}{table}" for table, _columns in FANOUT_STIX]
    query = StixStale.select(StixStale.record_type, StixStale.record_id).where(
        StixStale.record_type.in_(types)
    )
    return stix.grouped((t[len(FANOUT_MARK) :], i) for t, i in query.tuples())


def dependents(
    marks: dict[str, list[int]], among: dict[str, list[int]] | None = None
) -> dict[str, set[int]]:
    """{record type: row ids} of the objects that copy from the marked records (`marked()`),
    only those `among` when given."""
    param = database.param
    found: dict[str, set[int]] = {}
    for marked_type, marked_ids in marks.items():
        for record_type, table, column, where in DEPENDENTS[marked_type]:
            wanted = None if among is None else among.get(record_type)
            if among is not None and not wanted:
                continue
            sql = f"SELECT {column} FROM {table} WHERE " + where.format(
                marked=", ".join([param] * len(marked_ids))
            )
            params = list(marked_ids)
            if wanted:
                sql += f" AND {column} IN ({', '.join([param] * len(wanted))})"
                params += wanted
            rows = database.execute_sql(sql, params).fetchall()
            found.setdefault(record_type, set()).update(row_id for (row_id,) in rows)
    return found


def _stamp(record_type: str) -> Any:
    """The columns of a marked record's row that mark it (FANOUT_STIX), as a query of one id."""
    columns = dict(FANOUT_STIX)[record_type]
    return f"SELECT {', '.join(columns)} FROM {record_type} WHERE id = {database.param}"


def settle(batch: int = SETTLE_BATCH, passes: int = 3) -> int:
    """Render the objects that copy from the marked records (`marked()`), a batch per
    transaction under the write lock (writes go on between them), then unmark each record
    whose row did not change meanwhile (one that did is done again, up to `passes` times).
    Run after a write's answer (api/app.py) and by `briefing db upgrade`; how many objects
    were rendered."""
    done = 0
    for _ in range(passes):
        marks = marked()
        if not marks:
            break
        for marked_type, marked_ids in marks.items():
            for marked_id in marked_ids:
                stamp = database.execute_sql(_stamp(marked_type), [marked_id]).fetchone()
                for record_type, row_ids in dependents({marked_type: [marked_id]}).items():
                    ordered = sorted(row_ids)
                    for at in range(0, len(ordered), batch):
                        ids = ordered[at : at + batch]
                        with exclusive():  # collections list the new versions: a new data version
                            _store_again(record_type, render(record_type, ids))
                        done += len(ids)
                with exclusive(bump=False):
                    if database.execute_sql(_stamp(marked_type), [marked_id]).fetchone() == stamp:
                        StixStale.delete().where(
                            (StixStale.record_type == f"{FANOUT_MARK}{marked_type}")
                            & (StixStale.record_id == marked_id)
                        ).execute()
    return done


def _stored(entries: Sequence[Entry]) -> dict[tuple[str, int], tuple[str | None, str | None]]:
    """{(record type, row id): (body, modified)} of the entries' kept objects not marked stale,
    nor copying from a marked record."""
    found: dict[tuple[str, int], tuple[str | None, str | None]] = {}
    for record_type, row_ids in stix.grouped((e.record_type, e.row_id) for e in entries).items():

        def build(ids: list[int], record_type: str = record_type) -> Any:
            marked = StixStale.select(pw.SQL("1")).where(
                (StixStale.record_type == StixJson.record_type)
                & (StixStale.record_id == StixJson.record_id)
            )
            return StixJson.select(StixJson.record_id, StixJson.body, StixJson.modified).where(
                (StixJson.record_type == record_type)
                & StixJson.record_id.in_(ids)
                & ~pw.fn.EXISTS(marked)
            )

        # the type is a literal of the compiled query, so each type compiles its own
        cursor = prepared(f"stix-kept:{record_type}", build, row_ids)
        for row_id, body, modified in cursor:
            found[(record_type, row_id)] = (body, modified)
    marks = marked() if found else {}
    if marks:  # rendered on the spot until `settle` has rendered them
        among = stix.grouped(found)
        for record_type, shown in dependents(marks, among).items():
            for row_id in shown:
                found.pop((record_type, row_id), None)
    return found


def _fresh(entries: list[Entry], namespace: uuid.UUID) -> dict[tuple[str, int], tuple[str, str]]:
    """The entries' objects rendered now."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for record_type, row_ids in stix.grouped((e.record_type, e.row_id) for e in entries).items():
        for row_id, rendered in render(record_type, row_ids, namespace).items():
            found[(record_type, row_id)] = rendered
    return found


def _kept(entries: Iterable[Entry]) -> list[Entry]:
    return [e for e in entries if e.record_type in KEPT]


def objects(
    entries: Sequence[Entry], namespace: uuid.UUID, base_url: str
) -> dict[tuple[str, int], str]:
    """{(record type, row id): JSON} of the entries' objects (records kept: not sources),
    stored or rendered now, their links to this API under `base_url`."""
    wanted = _kept(entries)
    stored = _stored(wanted)
    found: dict[tuple[str, int], str] = {}
    missing = []
    for entry in wanted:
        key = (entry.record_type, entry.row_id)
        body = stored.get(key, (None, None))[0]
        object_id = stix.stix_id(namespace, entry.record_type, entry.slug, entry.kind)
        kind = object_id.partition("--")[0]
        start = f'{{"type":"{kind}","spec_version":"{stix.SPEC_VERSION}","id":"{object_id}"'
        if body is not None and body.startswith(start):
            found[key] = body
        else:
            missing.append(entry)
    if missing:
        found.update((key, body) for key, (body, _) in _fresh(missing, namespace).items())
    if base_url:
        rooted = f'"url":"{base_url}/v1/'
        found = {key: body.replace(_SELF_LINK, rooted) for key, body in found.items()}
    return found


def versions(entries: Sequence[Entry], namespace: uuid.UUID) -> dict[tuple[str, int], str]:
    """{(record type, row id): modified} of the entries' kept objects, stored or rendered now."""
    wanted = _kept(entries)
    stored = _stored(wanted)
    found = {key: modified for key, (body, modified) in stored.items() if body and modified}
    missing = [e for e in wanted if (e.record_type, e.row_id) not in found]
    if missing:
        found.update((key, modified) for key, (_, modified) in _fresh(missing, namespace).items())
    return found
