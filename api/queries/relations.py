"""`relation` records: who leads, commands, speaks for, belongs to or backs whom."""

from __future__ import annotations

from collections.abc import Sequence

import peewee as pw

from api.queries.collection import Collection
from api.queries.filters import Filter, any_of, cited_by, ids_for
from api.queries.list_query import ListQuery
from api.queries.loading import Row, actor_ref, citations_for, typed_rows, versioned
from api.queries.paging import sorts_for
from api.store.db import database
from api.store.models import Actor, Relation

SUBJECT, OBJECT = Actor.alias("subject"), Actor.alias("object")


def relations_query() -> pw.SelectQuery:
    """Relations with both their actors, ready for `load_relations`."""
    return (
        Relation.select(Relation, SUBJECT, OBJECT)
        .join_from(Relation, SUBJECT, on=(Relation.subject == SUBJECT.id))
        .join_from(Relation, OBJECT, on=(Relation.object == OBJECT.id))
    )


# The columns of a relation and of its two actors that its record shows, read as rows: building
# models is slow for an actor in many relations (the hub of a large corpus).
_RELATION_COLUMNS = [
    Relation.id,
    Relation.slug,
    Relation.version,
    Relation.updated_at,
    Relation.predicate,
    Relation.start_date,
    Relation.end_date,
    Relation.date_precision,
    Relation.description,
    Relation.subject,
    Relation.object,
]
_ACTOR_COLUMNS = ["slug", "name", "kind"]


def relations_of(actor_ids: list[int]) -> list[tuple[Row, dict]]:
    """(row, record) of every relation on either side of any of the actors, in id order: one
    query, rows read like `relations_query()`'s models (`row.subject.slug`)."""
    if not actor_ids:
        return []
    rows = _relation_rows(Relation.subject.in_(actor_ids) | Relation.object.in_(actor_ids))
    return list(zip(rows, load_relations(rows), strict=True))


def relations_by_id(relation_ids: list[int]) -> list[tuple[Row, dict]]:
    """(row, record) of relations by row id, in id order (rows read as `relations_of` reads
    them: the STIX export reads a thousand at once)."""
    if not relation_ids:
        return []
    rows = _relation_rows(Relation.id.in_(relation_ids))
    return list(zip(rows, load_relations(rows), strict=True))


def _relation_rows(condition: pw.Node) -> list[Row]:
    """The rows of the relations matching `condition`, with both actors, in id order."""
    ends = [getattr(end, name) for end in (SUBJECT, OBJECT) for name in _ACTOR_COLUMNS]
    query = (
        relations_query().select(*_RELATION_COLUMNS, *ends).where(condition).order_by(Relation.id)
    )
    names = [
        f"{c.name}_id" if isinstance(c, pw.ForeignKeyField) else c.name for c in _RELATION_COLUMNS
    ] + [f"{end}_{name}" for end in ("subject", "object") for name in _ACTOR_COLUMNS]
    rows = []
    for row in typed_rows(database.execute_sql(*query.sql()), _RELATION_COLUMNS + ends, names):
        for end in ("subject", "object"):
            row[end] = Row((name, row.pop(f"{end}_{name}")) for name in _ACTOR_COLUMNS)
        rows.append(row)
    return rows


def load_relations(relations: list[Relation] | list[Row]) -> list[dict]:
    """Relation records; rows must come from `relations_query()` (actors joined) or
    `relations_of`."""
    citations = citations_for("relation", [relation.id for relation in relations])
    return [
        {
            "id": relation.slug,
            **versioned(relation),
            "subject": actor_ref(relation.subject),
            "predicate": relation.predicate,
            "object": actor_ref(relation.object),
            "start_date": relation.start_date,
            "end_date": relation.end_date,
            "date_precision": relation.date_precision,
            "description": relation.description,
            "citations": citations[relation.id],
        }
        for relation in relations
    ]


def _relation_end(column: pw.Field, parameter: str) -> Filter:
    """Relations whose subject (or object) is any of the actors."""
    return lambda slugs, asked: column.in_(ids_for(Actor, slugs, parameter))


def _relation_actor(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Relations with any of the actors on either side."""
    actor_ids = ids_for(Actor, slugs, "actor")
    return Relation.subject.in_(actor_ids) | Relation.object.in_(actor_ids)


RELATIONS = Collection(
    name="relation",
    model=Relation,
    sorts=sorts_for({"id": Relation.slug}),
    default_sort="id",
    filters={
        "subject": _relation_end(Relation.subject, "subject"),
        "object": _relation_end(Relation.object, "object"),
        "actor": _relation_actor,
        "predicate": any_of(Relation.predicate),
        "source": cited_by("relation", Relation),
    },
    load=load_relations,
    base_query=relations_query,
)
