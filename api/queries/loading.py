"""Batch loading shared by every collection: references and the citations and aliases of many
records at once (one query each, whatever the page size)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import chain
from typing import Any

import peewee as pw

from api.store.db import database
from api.store.models import Actor, Citation, Location, Source
from schemas.vocabularies import identifier_url


def versioned(row: pw.Model) -> dict:
    """`version` and `updated_at` of a writable record (its ETag derives from the version)."""
    return {"version": row.version, "updated_at": as_utc(row.updated_at)}


@lru_cache(maxsize=4096)
def as_utc(stamp: dt.datetime) -> dt.datetime:
    """A stored (naive, UTC) time as an aware one. Remembered: `replace(tzinfo=...)` is paid
    per record and field, and a page's records mostly share the time of their import."""
    return stamp.replace(tzinfo=dt.UTC)


class Row(dict):
    """A row fetched as a dict but read like a model instance (`row.title`), for the loaders
    of a page: building model instances was a third of a 50-event page. A foreign
    key reads as `row.location_id`, its id, as on a model; there is no lazy `row.location`."""

    __slots__ = ()

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def row_factory(model: type[pw.Model]):
    """dict (as `query.dicts()` yields it) -> Row, with foreign keys renamed `<name>_id`."""
    keys = [
        (field.name, f"{field.name}_id")
        for field in model._meta.sorted_fields
        if isinstance(field, pw.ForeignKeyField)
    ]

    def make(data: dict) -> Row:
        row = Row(data)
        for name, renamed in keys:
            if name in row:
                row[renamed] = row.pop(name)
        return row

    return make


# ---------------------------------------------------------------- prepared batch queries
# A page's loaders run the same few queries on every request, differing only in their ids;
# building them with peewee each time was a fifth of a 50-event page. `prepared`
# compiles a query once per (name, backend, number of ids) and binds the ids per call.

_prepared: dict[tuple, tuple[str, list, list[int]]] = {}
# Pages hold at most 500 records; longer lists of ids (the 20k relations of a hub actor) are
# read in batches of this many, each batch compiled once like a page.
PREPARED_AT_MOST = 1_000


def prepared(name: str, build: Callable[[list[int]], pw.SelectQuery], ids: list[int]) -> Any:
    """The rows of `build(ids)`, whose SQL is compiled once per (name, backend, len(ids)).

    `build` must use each id as a bound parameter exactly once (e.g. `field.in_(ids)`): the
    query is compiled with stand-ins (-1, -2, ...) whose places in the parameters are found
    and filled with the real ids on each call. More than PREPARED_AT_MOST ids are read in
    batches of that many, one after the other: callers group rows by id, and all of an id's
    rows are in its batch."""
    if len(ids) > PREPARED_AT_MOST:
        batches = range(0, len(ids), PREPARED_AT_MOST)
        return chain.from_iterable(
            prepared(name, build, ids[start : start + PREPARED_AT_MOST]) for start in batches
        )
    key = (name, type(database.obj), len(ids))
    found = _prepared.get(key)
    if found is None:
        stand_ins = [-(i + 1) for i in range(len(ids))]
        sql, params = build(stand_ins).sql()
        wanted = set(stand_ins)
        bound_at = [(param, place) for place, param in enumerate(params) if param in wanted]
        at = dict(bound_at)
        if len(bound_at) != len(stand_ins) or len(at) != len(stand_ins):
            raise ValueError(f"prepared query {name!r}: each id must be bound once")
        places = [at[stand_in] for stand_in in stand_ins]
        found = _prepared[key] = (sql, params, places)
    sql, params, places = found
    bound = list(params)
    for place, value in zip(places, ids, strict=True):
        bound[place] = value
    return database.execute_sql(sql, bound)


def converter(field: pw.Field) -> Callable[[Any], Any] | None:
    """A fast `python_value` for a column read from a cursor; None when the value is used as
    the driver returns it (text, numbers, ids)."""
    if isinstance(field, pw.DateTimeField):
        parse = dt.datetime.fromisoformat  # SQLite's text; PostgreSQL returns datetimes
        return lambda v: parse(v) if type(v) is str else v
    if isinstance(field, pw.DateField):
        parse_date = dt.date.fromisoformat
        return lambda v: parse_date(v) if type(v) is str else v
    if isinstance(field, pw.BooleanField):
        return lambda v: v if v is None else bool(v)
    if isinstance(field, pw.ForeignKeyField) and isinstance(field.rel_field, pw.AutoField):
        return None  # an id, as the driver returns it
    if isinstance(field, pw.CharField | pw.TextField | pw.IntegerField | pw.FloatField):
        return None  # AutoField, Double and BigInteger included
    return field.python_value


_makers: dict[tuple, Callable[[Any], Row]] = {}


def row_maker(fields: list[pw.Field], names: list[str]) -> Callable[[Any], Row]:
    """values (a cursor's tuple over `fields`) -> Row keyed by `names`, each value as `converter`
    gives it; one generated function per column list (a page reads ~100 rows)."""
    key = (*map(id, fields), *names)
    found = _makers.get(key)
    if found is not None:
        return found
    scope: dict[str, Any] = {
        "Row": Row,
        "zip": zip,
        "names": tuple(names),
        "parse_datetime": dt.datetime.fromisoformat,
        "parse_date": dt.date.fromisoformat,
        "bool": bool,
    }
    lines = ["def make(values):", "    row = Row(zip(names, values))"]
    for i, (field, name) in enumerate(zip(fields, names, strict=True)):
        convert = converter(field)
        if convert is None:
            continue
        lines.append(f"    value = values[{i}]")
        if isinstance(field, pw.DateTimeField | pw.DateField):  # SQLite's text
            parse = "parse_datetime" if isinstance(field, pw.DateTimeField) else "parse_date"
            lines.append(f"    if value.__class__ is str: row[{name!r}] = {parse}(value)")
        elif isinstance(field, pw.BooleanField):
            lines.append(f"    if value is not None: row[{name!r}] = bool(value)")
        else:
            scope[f"convert_{i}"] = convert
            lines.append(f"    if value is not None: row[{name!r}] = convert_{i}(value)")
    lines.append("    return row")
    exec(compile("\n".join(lines), "<row_maker>", "exec"), scope)
    found = _makers[key] = scope["make"]
    return found


def typed_rows(cursor: Any, fields: list[pw.Field], names: list[str]) -> Iterator[Row]:
    """Rows of a cursor over `fields`, as Rows keyed by `names`, values as peewee gives them."""
    return map(row_maker(fields, names), cursor)


def model_columns(model: type[pw.Model]) -> tuple[list[pw.Field], list[str]]:
    """Every column of `model`, and its names as a Row has them (foreign keys as `x_id`)."""
    fields = list(model._meta.sorted_fields)
    names = [f"{f.name}_id" if isinstance(f, pw.ForeignKeyField) else f.name for f in fields]
    return fields, names


def actor_ref(actor: Actor | Row) -> dict:
    """An actor as other records embed it: `{id, name, kind}`."""
    return {"id": actor.slug, "name": actor.name, "kind": actor.kind}


def location_ref(location: Location | Row) -> dict:
    """A location as other records embed it: `{id, name, kind}`."""
    return {"id": location.slug, "name": location.name, "kind": location.kind}


def by_id(model: type[pw.Model], ids: list[int]) -> dict[int, pw.Model]:
    """Rows of `model` by internal id, in one query (none for no ids)."""
    return {row.id: row for row in model.select().where(model.id.in_(ids))} if ids else {}


def rows_by_id(model: type[pw.Model], ids: list[int]) -> dict[int, Row]:
    """Like `by_id`, as Rows (every column, read like instances, no model built)."""
    if not ids:
        return {}
    fields, names = model_columns(model)
    cursor = prepared(
        f"rows_by_id:{model._meta.table_name}",
        lambda ids: model.select(*fields).where(model.id.in_(ids)).tuples(),
        ids,
    )
    return {row["id"]: row for row in typed_rows(cursor, fields, names)}


def citations_for(record_type: str, ids: list[int]) -> dict[int, list[dict]]:
    """Citations of many records in one query: {record_id: [{source, excerpt, public_record}]}
    (a public record's citation has no excerpt; its fact is kept in the excerpt column)."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return result
    cursor = prepared(
        f"citations_for:{record_type}",
        lambda ids: (
            Citation.select(
                Citation.record_id,
                Source.slug,
                Source.title,
                Citation.excerpt,
                Citation.public_record,
                Citation.public_record_where,
                Citation.supports,
            )
            .join(Source, on=(Citation.source == Source.id))
            .where((Citation.record_type == record_type) & Citation.record_id.in_(ids))
            .order_by(Citation.record_id, Citation.position, Citation.id)
            .tuples()
        ),
        ids,
    )
    sources: dict[str, dict] = {}  # one ref per source (records are written, not changed)
    for record_id, slug, title, excerpt, public_record, where, supports in cursor:
        source = sources.get(slug)
        if source is None:
            source = sources[slug] = {"id": slug, "title": title}
        if public_record is None:
            result[record_id].append({"source": source, "excerpt": excerpt, "public_record": None})
            continue
        named = {
            "name": public_record,
            "where": where,
            "supports": supports.split(),
            "fact": excerpt,
        }
        result[record_id].append({"source": source, "excerpt": None, "public_record": named})
    return result


def aliases_for(model: type[pw.Model], owner: pw.Field, ids: list[int]) -> dict[int, list]:
    """Aliases of many records in one query: {owner id: [{name, language}]}."""
    result: dict[int, list] = defaultdict(list)
    if ids:
        for alias in model.select().where(owner.in_(ids)).order_by(model.id):
            result[getattr(alias, f"{owner.name}_id")].append(
                {"name": alias.name, "language": alias.language}
            )
    return result


def identifiers_for(model: type[pw.Model], owner: pw.Field, ids: list[int]) -> dict[int, list]:
    """External identifiers of many records in one query: {owner id: [{scheme, value, url,
    reason}]}, in the order the curator gave them."""
    result: dict[int, list] = defaultdict(list)
    if ids:
        query = model.select().where(owner.in_(ids)).order_by(model.id)
        for row in query:
            result[getattr(row, f"{owner.name}_id")].append(
                {
                    "scheme": row.scheme,
                    "value": row.value,
                    "url": identifier_url(row.scheme, row.value),
                    "reason": row.reason,
                }
            )
    return result
