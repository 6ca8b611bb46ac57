"""Same-as links, written: a curated statement that two records of one type denote the same
thing, made and withdrawn under the one write lock (the data version moves, so every cached
answer that `resolve=same_as` shaped is recomputed). Never a merge: both records stay as they
are, and withdrawing the link restores every answer exactly."""

from __future__ import annotations

from api.ingest.excerpts import normalize
from api.ingest.owners import Refusal, check
from api.ingest.principal import Principal
from api.queries.identity import IDENTITIES
from api.records import API_PREFIX
from api.store.ddl import exclusive
from api.store.models import DEFAULT_OWNER, ApiKey, Source, same_as_slug


class Refused(Exception):
    """The link cannot be made as asked: `errors` are `{path, message}` (HTTP 422)."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


class Exists(Exception):
    """The two records are linked already (HTTP 409)."""


class UnknownLink(LookupError):
    """No same-as link has that id (HTTP 404)."""


def _source_problems(citation: dict | None) -> tuple[Source | None, list[dict[str, str]]]:
    if citation is None:
        return None, []
    source = Source.get_or_none(Source.slug == citation["source"])
    if source is None:
        return None, [{"path": "citation.source", "message": "No such source."}]
    if normalize(citation["excerpt"]) not in normalize(source.text or ""):
        message = "Not found in the source's text: quote it verbatim."
        return source, [{"path": "citation.excerpt", "message": message}]
    return source, []


def create(data: dict, by: Principal) -> str:
    """Link the two records of `data` (validated by schemas/identity.py); the link's id.
    Any write key may assert a link; it is recorded as asserted by the key."""
    identity = IDENTITIES[data["record_type"]]
    model = identity.links
    with exclusive():
        rows = []
        errors: list[dict[str, str]] = []
        for n, slug in enumerate(data["records"]):
            row = identity.model.get_or_none(identity.model.slug == slug)
            if row is None:
                message = f"No {data['record_type']} with id {slug!r}."
                errors.append({"path": f"records[{n}]", "message": message})
            rows.append(row)
        source, problems = _source_problems(data.get("citation"))
        errors += problems
        if errors:
            raise Refused(errors)
        left, right = sorted(rows, key=lambda row: row.slug)
        slug = same_as_slug(left.slug, right.slug)
        if model.get_or_none(model.slug == slug) is not None:
            raise Exists(f"{left.slug} and {right.slug} are linked already ({slug}).")
        model.create(
            slug=slug,
            left=left.id,
            right=right.id,
            confidence=data["confidence"],
            reason=data.get("reason"),
            source=source.id if source else None,
            excerpt=data["citation"]["excerpt"] if data.get("citation") else None,
            asserted_by=by.key,
        )
    return slug


def _asserter_owner(key_name: str) -> str:
    """The owner of the key that asserted a link (the command line's: the default owner)."""
    key = ApiKey.get_or_none(ApiKey.name == key_name)
    return key.owner if key is not None else DEFAULT_OWNER


def delete(slug: str, by: Principal) -> None:
    """Withdraw a link; both records and every answer are as they were before it. Only a key
    of the owner of the key that asserted it (or an admin key) may (owners.Forbidden)."""
    with exclusive():
        for identity in IDENTITIES.values():
            row = identity.links.get_or_none(identity.links.slug == slug)
            if row is None:
                continue
            owner = _asserter_owner(row.asserted_by)
            if not by.may_act_for([owner]):
                check(by, [Refusal(f"{API_PREFIX}/same-as/{slug}", (owner,))])
            row.delete_instance()
            return
        raise UnknownLink(f"No same-as link with id {slug!r}.")
