"""Who may change what (issue #31): every key belongs to an owner (a team or organisation),
and a source to the owner whose key first imported it. A record is owned by the owners of the
sources that support it: those whose bundles contributed its citations. A key may re-import,
delete or curate only what its owner owns; a record several owners' sources support, any of
them; an admin key (and the command line) anything. A refusal names the owners it would need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import peewee as pw

from api.ingest.principal import CLI, Principal
from api.records import named
from api.store.db import database
from api.store.ddl import exclusive
from api.store.models import ApiKey, Citation, Source, utcnow


@dataclass(frozen=True)
class Refusal:
    """One thing a key may not change: its path, and the owners that may."""

    path: str
    owners: tuple[str, ...]

    @property
    def message(self) -> str:
        if not self.owners:
            return "Supported by no source: only an admin key may change it."
        return f"Owned by {', '.join(repr(owner) for owner in self.owners)}."


class Forbidden(Exception):
    """The key's owner does not own what the write would change (HTTP 403); nothing changed."""

    def __init__(self, principal: Principal, refusals: list[Refusal]):
        self.principal = principal
        self.refusals = refusals
        self.needed = sorted({owner for refusal in refusals for owner in refusal.owners})
        what = refusals[0].path if len(refusals) == 1 else f"{len(refusals)} records"
        if self.needed:
            owners = " or ".join(repr(owner) for owner in self.needed)
            need = f"a key of owner {owners} (or an admin key)"
        else:
            need = "an admin key"
        super().__init__(
            f"The key's owner {principal.owner!r} does not own {what}: this write needs {need}."
        )


def check(principal: Principal, refusals: list[Refusal]) -> None:
    """Raise Forbidden when anything was refused."""
    if refusals:
        raise Forbidden(principal, refusals)


def source_owners(slugs: Iterable[str]) -> dict[str, str]:
    """The owner of each existing source among `slugs`."""
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    query = Source.select(Source.slug, Source.owner).where(Source.slug.in_(wanted))
    return dict(query.tuples())


def record_owners(record_type: str, row_ids: Iterable[int]) -> dict[int, set[str]]:
    """The owners of each record: those of the sources whose bundles gave its citations (a
    citation without a bundle is its source's own)."""
    wanted = sorted(set(row_ids))
    owners: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(wanted), 500):  # SQLite bounds the parameters of a query
        chunk = wanted[start : start + 500]
        contributor = pw.fn.COALESCE(Citation.bundle, Citation.source)
        query = (
            Citation.select(Citation.record_id, Source.owner)
            .join(Source, on=(Source.id == contributor))
            .where((Citation.record_type == record_type) & Citation.record_id.in_(chunk))
            .distinct()
        )
        for row_id, owner in query.tuples():
            owners[row_id].add(owner)
    return {row_id: owners.get(row_id, set()) for row_id in wanted}


def refused_records(principal: Principal, record_type: str, rows: dict[int, str]) -> list[Refusal]:
    """The records (row id -> public id) this key may not change."""
    if principal.admin or not rows:
        return []
    path = named(record_type).path
    return [
        Refusal(f"{path}/{rows[row_id]}", tuple(sorted(owners)))
        for row_id, owners in record_owners(record_type, rows).items()
        if not principal.may_act_for(owners)
    ]


def refused_sources(principal: Principal, slugs: Iterable[str]) -> list[Refusal]:
    """The existing sources among `slugs` this key may not change (or cite anew)."""
    if principal.admin:
        return []
    path = named("source").path
    return [
        Refusal(f"{path}/{slug}", (owner,))
        for slug, owner in sorted(source_owners(slugs).items())
        if owner != principal.owner
    ]


def assign_sources(owner: str, slugs: list[str], by: Principal = CLI) -> list[str]:
    """Give sources to `owner` (splitting the `default` owner of an upgraded deployment): each
    change journaled as an update of the source. The ids of the sources that changed owner;
    LookupError naming the ids no source has."""
    from api.ingest import journal  # journal writes with the Writer, which imports this module

    with database.connection_context(), exclusive():
        sources = {row.slug: row for row in Source.select().where(Source.slug.in_(slugs))}
        missing = sorted(set(slugs) - set(sources))
        if missing:
            raise LookupError(f"No source has the id {', '.join(map(repr, missing))}.")
        moved = []
        for slug, row in sorted(sources.items()):
            if row.owner == owner:
                continue
            before = journal.source_snapshot(row)
            Source.update(owner=owner).where(Source.id == row.id).execute()
            version = journal.bump("sources", row.id)
            after = journal.source_snapshot(Source.get_by_id(row.id))
            journal.log("update", "sources", slug, version, by, before, after)
            moved.append(slug)
        return moved


def owners_summary() -> list[dict[str, object]]:
    """Every owner with how many sources and active keys it has."""
    with database.connection_context():
        sources = dict(
            Source.select(Source.owner, pw.fn.COUNT(Source.id)).group_by(Source.owner).tuples()
        )
        active = ApiKey.revoked_at.is_null() & (
            ApiKey.expires_at.is_null() | (ApiKey.expires_at > utcnow())
        )
        keys = dict(
            ApiKey.select(ApiKey.owner, pw.fn.COUNT(ApiKey.id))
            .where(active)
            .group_by(ApiKey.owner)
            .tuples()
        )
    return [
        {"owner": owner, "sources": sources.get(owner, 0), "keys": keys.get(owner, 0)}
        for owner in sorted(set(sources) | set(keys))
    ]
