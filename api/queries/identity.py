"""Identity: external identifiers of actors and places (the `identifier=` filter, the lookup)
and the curated same-as links that `resolve=same_as` reads to treat each linked group as one.

A same-as group is the set of records joined by links (transitively). Its id is the smallest
public id among its members (in code-point order): a record id that keeps working, and the same
as long as the group has the same members. A record in no link is a group of its own.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import peewee as pw

from api.queries.errors import NotFound
from api.queries.filters import Filter, ids_for, member
from api.queries.list_query import ListQuery
from api.queries.loading import as_utc
from api.store import data_version
from api.store.models import (
    Actor,
    ActorIdentifier,
    ActorSameAs,
    Location,
    LocationIdentifier,
    LocationSameAs,
    Source,
)
from schemas.vocabularies import identifier_url


@dataclass(frozen=True)
class _Identity:
    """The identity tables of one record type."""

    model: type[pw.Model]
    identifiers: type[pw.Model]
    owner: pw.Field
    links: type[pw.Model]


IDENTITIES = {
    "actor": _Identity(Actor, ActorIdentifier, ActorIdentifier.actor, ActorSameAs),
    "location": _Identity(
        Location, LocationIdentifier, LocationIdentifier.location, LocationSameAs
    ),
}


def split_identifier(text: str) -> tuple[str, str]:
    """`wikidata:Q796` -> (`wikidata`, `Q796`): the scheme is before the first colon."""
    scheme, _, value = text.partition(":")
    return scheme, value


def with_identifier(record_type: str) -> Filter:
    """Records with any of the identifiers `scheme:value` (the values are checked by the
    argument schema)."""
    identity = IDENTITIES[record_type]
    table = identity.identifiers

    def apply(values: Sequence[str], asked: ListQuery) -> pw.Node:
        pairs = [split_identifier(value) for value in values]
        condition = reduce(
            operator.or_,
            [(table.scheme == scheme) & (table.value == value) for scheme, value in pairs],
        )
        holders = table.select(identity.owner).where(condition)
        return member(identity.model.id, (holders, identity.owner))

    return apply


def lookup(scheme: str, value: str) -> dict:
    """Every actor and place holding the identifier; NotFound when none does."""
    records = []
    for record_type, identity in IDENTITIES.items():
        model, table = identity.model, identity.identifiers
        query = (
            model.select(model.slug, model.name, model.kind)
            .join(table, on=(identity.owner == model.id))
            .where((table.scheme == scheme) & (table.value == value))
            .order_by(model.slug)
        )
        records += [
            {"type": record_type, "id": slug, "name": name, "kind": kind}
            for slug, name, kind in query.tuples()
        ]
    if not records:
        raise NotFound(f"No actor or location has the identifier {scheme}:{value}.")
    return {
        "scheme": scheme,
        "value": value,
        "url": identifier_url(scheme, value),
        "records": records,
    }


# ---------------------------------------------------------------- same-as groups


@dataclass(frozen=True)
class Groups:
    """The same-as groups of one record type with more than one member: each member's group
    (the group's id and internal id), and each group's members."""

    group_of: dict[int, tuple[str, int]]  # member id -> (group id, group's internal id)
    members: dict[int, list[tuple[int, str, str, str]]]  # group's internal id -> [(id, slug, ..)]

    def hidden(self) -> list[int]:
        """The members that are not their group's record (a resolved list leaves them out)."""
        return [member for member, (_, head) in self.group_of.items() if member != head]

    def head(self, record_id: int) -> int:
        """The internal id of the record standing for `record_id`'s group."""
        found = self.group_of.get(record_id)
        return record_id if found is None else found[1]


def _read_groups(record_type: str) -> Groups:
    identity = IDENTITIES[record_type]
    links = identity.links
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in links.select(links.left, links.right).tuples():
        parent[root(left)] = root(right)
    if not parent:
        return Groups({}, {})
    model = identity.model
    rows = model.select(model.id, model.slug, model.name, model.kind).where(
        model.id.in_(list(parent))
    )
    by_root: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    for row in rows.tuples():
        by_root[root(row[0])].append(row)
    group_of: dict[int, tuple[str, int]] = {}
    members: dict[int, list[tuple[int, str, str, str]]] = {}
    for rows_of_group in by_root.values():
        rows_of_group.sort(key=lambda row: row[1])
        head_id, head_slug = rows_of_group[0][0], rows_of_group[0][1]
        members[head_id] = rows_of_group
        for row in rows_of_group:
            group_of[row[0]] = (head_slug, head_id)
    return Groups(group_of, members)


_groups = data_version.PerVersion(maxsize=4)


def groups(record_type: str) -> Groups:
    """The same-as groups of `actor` or `location` records (read once per data version)."""
    return _groups.get(("same_as", record_type), lambda: _read_groups(record_type))


def same_as_refs(record_type: str, ids: list[int]) -> dict[int, list[dict]]:
    """{record id: refs of the records a same-as link joins it to} (none for most), in one
    query whatever the page's size."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return result
    identity = IDENTITIES[record_type]
    links, model = identity.links, identity.model
    left, right = model.alias("left_end"), model.alias("right_end")
    query = (
        links.select(
            links.left,
            links.right,
            *(end.slug for end in (left, right)),
            left.name,
            left.kind,
            right.name,
            right.kind,
        )
        .join(left, on=(links.left == left.id))
        .switch(links)
        .join(right, on=(links.right == right.id))
        .where(links.left.in_(ids) | links.right.in_(ids))
        .order_by(links.slug)
        .tuples()
    )
    for left_id, right_id, left_slug, right_slug, l_name, l_kind, r_name, r_kind in query:
        result[left_id].append({"id": right_slug, "name": r_name, "kind": r_kind})
        result[right_id].append({"id": left_slug, "name": l_name, "kind": l_kind})
    return result


def resolved(record_type: str) -> Filter:
    """`resolve=same_as` on a list of actors or places: one record per same-as group (the
    group's record, whose id is the group's), so counts count groups."""
    identity = IDENTITIES[record_type]

    def apply(value: str, asked: ListQuery) -> pw.Node | None:
        hidden = groups(record_type).hidden()
        return identity.model.id.not_in(hidden) if hidden else None

    return apply


def actor_ids(slugs: Sequence[str], parameter: str, asked: ListQuery) -> list[int]:
    """The internal ids of the actors a filter names; under `resolve=same_as`, with every
    member of their same-as groups."""
    if asked.filters.get("resolve") == "same_as":
        return group_members("actor", slugs, parameter)
    return ids_for(Actor, slugs, parameter)


def location_slugs(slugs: Sequence[str], asked: ListQuery) -> list[str]:
    """The places a filter names; under `resolve=same_as`, with every member of their
    same-as groups (unknown ids are left for the filter to name)."""
    if asked.filters.get("resolve") != "same_as":
        return list(slugs)
    found = groups("location")
    known = dict(
        Location.select(Location.slug, Location.id).where(Location.slug.in_(slugs)).tuples()
    )
    result = list(slugs)
    for slug in slugs:
        group = found.group_of.get(known.get(slug, 0))
        if group is not None:
            result += [member[1] for member in found.members[group[1]]]
    return list(dict.fromkeys(result))


def resolving(asked: ListQuery) -> bool:
    """True when the request asks `resolve=same_as`."""
    return asked.filters.get("resolve") == "same_as"


def grouped_column(record_type: str, column: pw.Node, asked: ListQuery) -> pw.Node:
    """`column` (a record's internal id), or under `resolve=same_as` the internal id of the
    record standing for its group: `CASE column WHEN member THEN head ... ELSE column END`
    (links are curated and few), so that a grouped count counts a group once."""
    if not resolving(asked):
        return column
    found = groups(record_type)
    hidden = [(member, found.head(member)) for member in found.hidden()]
    return pw.Case(column, hidden, column) if hidden else column


def location_groups(asked: ListQuery) -> dict[str, str]:
    """{place id: its group's id} of the places in same-as groups, under `resolve=same_as`
    (empty otherwise)."""
    if not resolving(asked):
        return {}
    found = groups("location")
    return {
        member[1]: group_id
        for _, group_id_head in found.group_of.items()
        for group_id in [group_id_head[0]]
        for member in found.members[group_id_head[1]]
    }


def group_members(record_type: str, slugs: Sequence[str], parameter: str) -> list[int]:
    """The internal ids of the named records and of every member of their same-as groups
    (an actor filter under `resolve=same_as`)."""
    found = groups(record_type)
    result: list[int] = []
    for record_id in ids_for(IDENTITIES[record_type].model, slugs, parameter):
        group = found.group_of.get(record_id)
        result += [record_id] if group is None else [m[0] for m in found.members[group[1]]]
    return list(dict.fromkeys(result))


# ---------------------------------------------------------------- the links themselves


def _link_record(record_type: str, link: pw.Model, refs: dict[int, dict]) -> dict:
    citation = None
    if link.source_id is not None:
        source = Source.get_by_id(link.source_id)
        citation = {"source": {"id": source.slug, "title": source.title}, "excerpt": link.excerpt}
    return {
        "id": link.slug,
        "record_type": record_type,
        "records": [refs[link.left_id], refs[link.right_id]],
        "confidence": link.confidence,
        "reason": link.reason,
        "citation": citation,
        "asserted_by": link.asserted_by,
        "created_at": as_utc(link.created_at),
        "group": groups(record_type).group_of[link.left_id][0],
    }


def links(record_type: str | None = None, record: str | None = None) -> list[dict]:
    """Every same-as link (of a type; of a record), by id."""
    result = []
    for kind, identity in IDENTITIES.items():
        if record_type not in (None, kind):
            continue
        model, table = identity.model, identity.links
        query = table.select().order_by(table.slug)
        if record is not None:
            ids = model.select(model.id).where(model.slug == record)
            query = query.where(table.left.in_(ids) | table.right.in_(ids))
        rows = list(query)
        wanted = {row.left_id for row in rows} | {row.right_id for row in rows}
        refs = {
            row_id: {"id": slug, "name": name, "kind": kind_of}
            for row_id, slug, name, kind_of in model.select(
                model.id, model.slug, model.name, model.kind
            )
            .where(model.id.in_(list(wanted) or [0]))
            .tuples()
        }
        result += [_link_record(kind, row, refs) for row in rows]
    return sorted(result, key=lambda link: link["id"])


def link(slug: str) -> dict:
    """One same-as link by id; NotFound when there is none."""
    for record_type, identity in IDENTITIES.items():
        row = identity.links.get_or_none(identity.links.slug == slug)
        if row is not None:
            return next(found for found in links(record_type) if found["id"] == slug)
    raise NotFound(f"No same-as link with id {slug!r}.")
