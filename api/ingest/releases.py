"""Making and deleting releases: a snapshot of the data as it stands (api/store/snapshots.py)
and its row in the live `release` table, which keeps a deleted release as a tombstone (who
deleted it, when) so that its name never names other data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import peewee as pw

from api.queries.releases import LATEST, newest
from api.records import RECORD_TYPES
from api.store import ddl, snapshots
from api.store.db import bound_to, database
from api.store.models import Change, Release, utcnow

NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
NAME_RULE = (
    "1 to 64 lowercase letters, digits, dots, dashes or underscores, starting and ending "
    "with a letter or digit"
)


class ReleaseProblem(Exception):
    """A release that cannot be made or deleted: `status` 409 (a conflict) or 422 (a bad
    name), `field` the one at fault."""

    def __init__(self, status: int, field: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.field, self.detail = status, field, detail


def check_name(name: str) -> None:
    """ReleaseProblem unless `name` is a well-formed name no release has had."""
    if not NAME.match(name) or name == LATEST:
        reason = f"`{LATEST}` names the newest release" if name == LATEST else NAME_RULE
        raise ReleaseProblem(422, "name", f"A release name is {reason}.")
    if Release.select().where(Release.name == name).exists():
        raise ReleaseProblem(409, "name", f"A release named {name!r} exists or existed.")


def create(
    name: str,
    description: str | None,
    key: str,
    build_downloads: Callable[[Release], list[dict]] | None = None,
) -> Release:
    """Snapshot the live data as release `name`, made by `key`; `build_downloads(release)`
    writes its files (the HTTP layer's) and lists them. Nothing is left when it fails."""
    with database.connection_context():
        check_name(name)
    with snapshots.making():  # one at a time; what a killed one left is collected first
        _collect()
        return _make(name, description, key, build_downloads)


def _make(
    name: str,
    description: str | None,
    key: str,
    build_downloads: Callable[[Release], list[dict]] | None,
) -> Release:
    storage = snapshots.new_storage()
    try:
        size = snapshots.take(storage)
        with bound_to(snapshots.opened(storage)), database.connection_context():
            seq = Change.select(pw.fn.MAX(Change.id)).scalar() or 0
            counts = {t.collection: t.model.select().count() for t in RECORD_TYPES}
        release = Release(
            name=name,
            description=description,
            created_by=key,
            seq=seq,
            counts=json.dumps(counts),
            schema_version=ddl.SCHEMA_VERSION,
            storage=storage,
            snapshot_bytes=size,
        )
        if build_downloads is not None:
            release.downloads = json.dumps(build_downloads(release))
        with database.connection_context(), ddl.exclusive():  # the list of releases changes
            check_name(name)  # made meanwhile by another
            release.save(force_insert=True)
    except BaseException:
        snapshots.drop(storage)
        raise
    return release


def collect() -> list[str]:
    """Delete every snapshot and download folder that no release names (what a creation
    killed midway leaves, or a deletion interrupted); their storage names."""
    with snapshots.making():  # no snapshot is being made meanwhile
        return _collect()


def _collect() -> list[str]:
    with database.connection_context():
        named = Release.select(Release.storage).where(Release.deleted_at.is_null())
        kept = {release.storage for release in named}
    orphans = sorted(snapshots.stored() - kept)
    for storage in orphans:
        snapshots.drop(storage)
    return orphans


def list_download(release: Release, file: dict) -> Release:
    """Record one file of a release's download (written after it was made): its listing,
    read again and changed in one transaction (another host may list another file); the
    release."""
    with bound_to(None), database.connection_context(), ddl.exclusive():  # its listing changes
        listed = json.loads(Release.get_by_id(release.id).downloads or "[]")
        listed = [item for item in listed if item["file"] != file["file"]] + [file]
        Release.update(downloads=json.dumps(listed)).where(Release.id == release.id).execute()
        return Release.get_by_id(release.id)


def delete(name: str, key: str) -> Release:
    """Delete release `name` (not the newest), by `key`: its snapshot and files go, its row
    stays as a tombstone. ReleaseProblem when it is the newest; None when there is none."""
    with database.connection_context(), ddl.exclusive():
        release = Release.get_or_none((Release.name == name) & Release.deleted_at.is_null())
        if release is None:
            raise ReleaseProblem(404, "name", f"No release is named {name!r}.")
        latest = newest()
        if latest is not None and latest.id == release.id:
            raise ReleaseProblem(
                409, "name", f"{name!r} is the latest release: make a newer one first."
            )
        release.deleted_at, release.deleted_by = utcnow(), key
        release.save()
    snapshots.drop(release.storage)
    return release
