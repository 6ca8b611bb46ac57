"""`actor` records: people, groups, states, bodies, units, companies and outlets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import peewee as pw

from api.queries.collection import Collection
from api.queries.filters import any_of, cited_by, ids_for
from api.queries.identity import resolved, same_as_refs, with_identifier
from api.queries.list_query import ListQuery
from api.queries.loading import Row, aliases_for, citations_for, identifiers_for, versioned
from api.queries.paging import sorts_for
from api.queries.relations import relations_of
from api.store.models import Actor, ActorAlias, ActorIdentifier, Relation


def _load_actors(actors: list[Actor]) -> list[dict]:
    """Actor records, each with its aliases and the relations on either side of it."""
    return _actor_records(actors, whole=True)


def load_actors_alone(actors: list[Actor] | list[Row]) -> list[dict]:
    """Actor records without their relations (the STIX export carries those as relationship
    objects of their own: a hub actor has thousands)."""
    return _actor_records(actors, whole=False)


def _actor_records(actors: list[Actor] | list[Row], whole: bool) -> list[dict]:
    """The records of `actors`; `whole`: with identifiers, same-as links and relations."""
    ids = [actor.id for actor in actors]
    aliases = aliases_for(ActorAlias, ActorAlias.actor, ids)
    citations = citations_for("actor", ids)
    if whole:
        relations: dict[int, list[dict]] = defaultdict(list)
        for row, record in relations_of(ids):
            for end in {row.subject_id, row.object_id} & set(ids):
                relations[end].append(record)
        identifiers = identifiers_for(ActorIdentifier, ActorIdentifier.actor, ids)
        same_as = same_as_refs("actor", ids)
    records = []
    for actor in actors:
        record = {
            "id": actor.slug,
            **versioned(actor),
            "name": actor.name,
            "kind": actor.kind,
            "title": actor.title,
            "description": actor.description,
            "country": actor.country,
            "aliases": aliases[actor.id],
        }
        if whole:
            record["identifiers"] = identifiers[actor.id]
            record["same_as"] = same_as[actor.id]
            record["relations"] = relations[actor.id]
        record["citations"] = citations[actor.id]
        records.append(record)
    return records


def related_to(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Actors in a stated relation with any of the named actors."""
    actor_ids = ids_for(Actor, slugs, "related_to")
    objects = Relation.select(Relation.object).where(Relation.subject.in_(actor_ids))
    subjects = Relation.select(Relation.subject).where(Relation.object.in_(actor_ids))
    return Actor.id.in_(objects) | Actor.id.in_(subjects)


ACTORS = Collection(
    name="actor",
    model=Actor,
    sorts=sorts_for({"name": Actor.name}),
    default_sort="name",
    filters={
        "kind": any_of(Actor.kind),
        "country": any_of(Actor.country),
        "related_to": related_to,
        "source": cited_by("actor", Actor),
        "identifier": with_identifier("actor"),
        "resolve": resolved("actor"),
    },
    load=_load_actors,
)
