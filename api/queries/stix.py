"""Records as STIX 2.1 objects: the mapping (README "STIX 2.1 and TAXII 2.1" has its table).

A record becomes one STIX object whose id is a UUIDv5 of `<record type>/<public id>` under the
deployment's namespace (`STIX_NAMESPACE`), so a re-export updates rather than duplicates.
`created` is the time of its first journaled change and `modified` that of its last (or its
`updated_at`, for a record loaded around the journal): both change only with a new version.
What core STIX cannot say (the event type after ACLED, date precision, casualty qualifiers, a
statement's channel and verbatim flag) sits in one property extension, defined by
`extension_definition`. A deleted record comes back revoked, from the journal's tombstone.

The mapping reads records as the JSON API writes them (`to_stix`), so a record and its STIX
object never disagree; the functions at the end read what a record does not carry (its
journal times, the URLs of the sources its citations quote, what a source yields). It is one
module, over 400 lines, because it is the mapping table of README in code: each record type's
function beside the others, read and changed together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import peewee as pw

from api.queries.loading import as_utc
from api.store import data_version
from api.store.db import database
from api.store.models import (
    Actor,
    Change,
    Citation,
    Event,
    Location,
    Relation,
    Source,
    Statement,
)

SPEC_VERSION = "2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
# The producer and the extension are the same in every deployment: fixed ids.
PRODUCER_ID = f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:briefing-api:stix:producer')}"
EXTENSION_ID = (
    "extension-definition--"
    f"{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:briefing-api:stix:extension:record')}"
)
EXTENSION_PUBLISHED = "2026-12-01T00:00:00.000Z"
EXTENSION_TYPE = "property-extension"

# a report lists at most this many objects (a synthetic source cites hundreds of thousands);
# beyond, its extension says how many there are and the source's TAXII collection lists them
REPORT_REFS_AT_MOST = 10_000

# record type -> STIX type (actors by kind: `actor_type`)
STIX_TYPES = {
    "source": "report",
    "location": "location",
    "relation": "relationship",
    "event": "incident",
    "statement": "note",
}
ACTOR_STIX_TYPES = ("identity", "threat-actor")
# STIX type -> the record type it comes from
RECORD_TYPE_OF = {
    **{stix: record for record, stix in STIX_TYPES.items()},
    "identity": "actor",
    "threat-actor": "actor",
}
# actor kinds that are threat actors; every other kind is an identity
THREAT_ACTOR_KINDS = ("armed_group",)
IDENTITY_CLASSES = {"person": "individual", "coalition": "group"}  # else organization
SECTORS = {
    "state": ["government"],
    "government_body": ["government"],
    "military_unit": ["defense"],
    "media_outlet": ["communications"],
    "intergovernmental_organization": ["government"],
}
# metres a coordinate precision means (schemas/vocabularies.py COORDINATE_PRECISIONS)
PRECISION_METRES = {"exact": 1_000.0, "approximate": 10_000.0}


def actor_type(kind: str | None) -> str:
    """The STIX type of an actor of `kind`."""
    return "threat-actor" if kind in THREAT_ACTOR_KINDS else "identity"


def stix_type(record_type: str, kind: str | None = None) -> str:
    """The STIX type of a record (an actor's depends on its kind)."""
    return actor_type(kind) if record_type == "actor" else STIX_TYPES[record_type]


def object_uuid(namespace: uuid.UUID, record_type: str, slug: str) -> uuid.UUID:
    """The UUIDv5 of a record under `namespace`: the same record, the same id, always."""
    return uuid.uuid5(namespace, f"{record_type}/{slug}")


@lru_cache(maxsize=65_536)
def _uuid_text(namespace: uuid.UUID, record_type: str, slug: str) -> str:
    """`str(object_uuid(...))`, written from the SHA-1 directly (RFC 9562 section 5.5: the
    version and variant bits set in the hash), as uuid.uuid5 would but a third of its time;
    remembered, since a page refers to the same actors and places again and again."""
    digest = bytearray(hashlib.sha1(namespace.bytes + f"{record_type}/{slug}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest[:16].hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def stix_id(namespace: uuid.UUID, record_type: str, slug: str, kind: str | None = None) -> str:
    """`incident--<uuid5>`: the STIX id of a record."""
    return f"{stix_type(record_type, kind)}--{_uuid_text(namespace, record_type, slug)}"


@lru_cache(maxsize=8192)  # a page's records mostly share the time of their import
def timestamp(value: dt.datetime | dt.date | str) -> str:
    """A STIX timestamp (RFC 3339, UTC, `Z`) of a stored time, an aware one or its ISO text;
    microseconds kept, so that two versions a millisecond apart stay apart."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _date(value: Any) -> str | None:
    """A date (or its ISO text) as ISO text."""
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


@dataclass
class Context:
    """What the mapping needs beyond a record: the id namespace, the base of record URLs, the
    sources its citations quote ({slug: {title, url, publisher}}), records' creation times
    ({(record type, slug): time}) and what each source yields (report `object_refs`)."""

    namespace: uuid.UUID
    base_url: str
    sources: dict[str, dict] = field(default_factory=dict)
    journal: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)

    def times(self, record_type: str, slug: str, updated_at: Any) -> tuple[str, str]:
        """(created, modified) of a record: its first and last journaled change (the journal
        is written just after the row), else its `updated_at` for both."""
        return version_times(self.journal.get((record_type, slug)), updated_at)

    report_refs: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    # {(record type, slug): updated_at} of the records objects copy from (copied_from)
    stamps: dict[tuple[str, str], Any] = field(default_factory=dict)

    def ref(self, record_type: str, ref: Mapping | None) -> str | None:
        """The STIX id of a record reference (`{id, name, kind}`)."""
        if ref is None:
            return None
        return stix_id(self.namespace, record_type, ref["id"], ref.get("kind"))


# ---------------------------------------------------------------- the shared objects


def producer() -> dict:
    """The identity of this software, which creates every object and the extension."""
    return {
        "type": "identity",
        "spec_version": SPEC_VERSION,
        "id": PRODUCER_ID,
        "created": EXTENSION_PUBLISHED,
        "modified": EXTENSION_PUBLISHED,
        "name": "briefing-api",
        "identity_class": "system",
        "description": "Structured briefing data: actors, events, statements and locations "
        "reported by news briefings, each cited to the sentence that supports it.",
    }


EXTENSION_SCHEMA = (
    "Properties of briefing-api records that core STIX has no place for, on every object the "
    "service exports: record_type and record_id (the public id); for incidents event_type and "
    "event_sub_type (ACLED's vocabulary), date, end_date, date_precision (day, week, month, "
    "year) and date_kind (point, span, window, on_or_before), location_ref, fatalities (null: "
    "not known), casualties [{side_ref, killed, wounded, qualifier (exact, at_least, about)}] "
    "and participants [{actor_ref, role}]; for notes verbatim, channel, the date properties, "
    "speaker_refs, on_behalf_of_refs, addressee_refs, mention_refs, outlet_ref, event_refs, "
    "anonymous, attribution and signatory_count; for identities and threat actors actor_kind, "
    "title, country and aliases [{name, language}]; for locations location_kind, parent_ref, "
    "coordinate_precision and aliases; for relationships predicate, start_date, end_date and "
    "date_precision; for reports publisher, author, published_precision, object_count and "
    "object_refs_complete. Every citation is an external reference: source_name the source's "
    "title, external_id its public id, description the excerpt."
)


def extension_definition() -> dict:
    """The extension-definition of the properties core STIX cannot carry."""
    return {
        "type": "extension-definition",
        "spec_version": SPEC_VERSION,
        "id": EXTENSION_ID,
        "created_by_ref": PRODUCER_ID,
        "created": EXTENSION_PUBLISHED,
        "modified": EXTENSION_PUBLISHED,
        "name": "briefing-api record",
        "description": "What a briefing record says that core STIX 2.1 cannot: event types, "
        "date precision, casualty qualifiers, statement channels and the public ids.",
        "schema": EXTENSION_SCHEMA,
        "version": "1.0.0",
        "extension_types": [EXTENSION_TYPE],
    }


def shared_objects() -> list[dict]:
    """The objects every export starts with: the producer and the extension."""
    return [producer(), extension_definition()]


# ---------------------------------------------------------------- records


def _citation_reference(citation: Mapping, ctx: Context) -> dict:
    """A citation as an external reference: the source quoted, its URL, the excerpt (or the
    public record and the fact it establishes)."""
    source = citation["source"]
    known = ctx.sources.get(source["id"], {})
    public = citation.get("public_record")
    if public:
        reference = {
            "source_name": public["name"],
            "description": f"{public['fact']} (supports: {', '.join(public['supports'])}; "
            f"given by {source['id']})",
        }
        where = public.get("where") or ""
        if where.startswith(("http://", "https://")):
            reference["url"] = where
        elif where:
            reference["description"] += f"; where: {where}"
        return reference
    reference = {
        "source_name": source.get("title") or known.get("title") or source["id"],
        "description": citation["excerpt"],
        "external_id": source["id"],
    }
    if known.get("url"):
        reference["url"] = known["url"]
    return reference


def _common(record_type: str, record: Mapping, ctx: Context, kind: str | None = None) -> dict:
    """The properties every object of a record has, and its extension's record id."""
    slug = record["id"]
    created_text, modified = ctx.times(record_type, slug, record["updated_at"])
    self_link = {
        "source_name": "briefing-api",
        "external_id": slug,
        "url": f"{ctx.base_url}/v1/{_collection(record_type)}/{slug}",
    }
    return {
        "type": stix_type(record_type, kind),
        "spec_version": SPEC_VERSION,
        "id": stix_id(ctx.namespace, record_type, slug, kind),
        "created_by_ref": PRODUCER_ID,
        "created": created_text,
        "modified": modified,
        "external_references": [
            self_link,
            *(_citation_reference(c, ctx) for c in record.get("citations", ())),
        ],
    }


_COLLECTIONS = {
    "source": "sources",
    "actor": "actors",
    "relation": "relations",
    "location": "locations",
    "event": "events",
    "statement": "statements",
}


def _collection(record_type: str) -> str:
    return _COLLECTIONS[record_type]


def _extension(record_type: str, slug: str, **properties: Any) -> dict:
    """The record's property extension: its type and public id, then `properties` that are
    set (None, empty lists left out)."""
    found = {"extension_type": EXTENSION_TYPE, "record_type": record_type, "record_id": slug}
    for name, value in properties.items():
        if value is not None and value != []:
            found[name] = value
    return {EXTENSION_ID: found}


def _set(target: dict, **properties: Any) -> dict:
    """`target` with `properties` that have a value (STIX has no nulls, no empty lists)."""
    for name, value in properties.items():
        if value is not None and value != [] and value != "":
            target[name] = value
    return target


def _aliases(record: Mapping) -> list[dict]:
    return [{"name": a["name"], "language": a["language"]} for a in record.get("aliases", ())]


def source_object(record: Mapping, ctx: Context) -> dict:
    """A source as a `report` of what it yields."""
    refs, count = ctx.report_refs.get(record["id"], ([], 0))
    obj = _common("source", record, ctx)
    article = _set({"source_name": record["publisher"]}, url=record.get("url"))
    article["external_id"] = record["id"]
    obj["external_references"].insert(1, article)
    _set(
        obj,
        name=record["title"],
        published=timestamp(record["published"]),
        object_refs=refs or [PRODUCER_ID],  # STIX needs one: a source yielding nothing
        lang=record.get("language"),
    )
    obj["extensions"] = _extension(
        "source",
        record["id"],
        publisher=record["publisher"],
        author=record.get("author"),
        published_precision=record.get("published_precision"),
        object_count=count,
        object_refs_complete=len(refs) == count,
    )
    return obj


def actor_object(record: Mapping, ctx: Context) -> dict:
    """An actor as an `identity`, or a `threat-actor` for an armed group."""
    kind = record["kind"]
    obj = _common("actor", record, ctx, kind)
    obj["name"] = record["name"]
    _set(obj, description=record.get("description"))
    if obj["type"] == "threat-actor":
        _set(obj, aliases=[a["name"] for a in record.get("aliases", ())])
    else:
        _set(
            obj,
            identity_class=IDENTITY_CLASSES.get(kind, "organization"),
            roles=[record["title"]] if record.get("title") else None,
            sectors=SECTORS.get(kind),
        )
    obj["extensions"] = _extension(
        "actor",
        record["id"],
        actor_kind=kind,
        title=record.get("title"),
        country=record.get("country"),
        aliases=_aliases(record),
    )
    return obj


def _place_names(record: Mapping) -> dict[str, str]:
    """`administrative_area` and `city` of a location, from its chain of places."""
    names: dict[str, str] = {}
    for place in [*record.get("ancestors", ()), record]:
        if place.get("kind") in ("province", "administrative_region"):
            names["administrative_area"] = place["name"]
        elif place.get("kind") == "city":
            names["city"] = place["name"]
    return names


def location_object(record: Mapping, ctx: Context) -> dict:
    """A place as a `location`: coordinates, country, province and city."""
    obj = _common("location", record, ctx)
    obj["name"] = record["name"]
    _set(obj, description=record.get("description"))
    if record.get("latitude") is not None:
        obj["latitude"] = record["latitude"]
        obj["longitude"] = record["longitude"]
        _set(obj, precision=PRECISION_METRES.get(record.get("coordinate_precision") or ""))
    _set(obj, country=record.get("country"), **_place_names(record))
    if "country" not in obj and "latitude" not in obj:
        obj["region"] = record["id"]  # STIX wants one of the three: the region's own id
    obj["extensions"] = _extension(
        "location",
        record["id"],
        location_kind=record["kind"],
        parent_ref=ctx.ref("location", record.get("parent")),
        coordinate_precision=record.get("coordinate_precision"),
        aliases=_aliases(record),
        region_refs=[ctx.ref("location", r) for r in record.get("regions", ())],
    )
    return obj


def _day_start(value: Any) -> str | None:
    return None if value is None else timestamp(dt.date.fromisoformat(_date(value) or ""))


def relation_object(record: Mapping, ctx: Context) -> dict:
    """A relation as a `relationship` between two actors, its predicate as its type."""
    obj = _common("relation", record, ctx)
    obj["relationship_type"] = record["predicate"].replace("_", "-")
    obj["source_ref"] = ctx.ref("actor", record["subject"])
    obj["target_ref"] = ctx.ref("actor", record["object"])
    start, stop = _day_start(record.get("start_date")), _day_start(record.get("end_date"))
    if start and stop and stop <= start:
        stop = None  # STIX needs stop_time after start_time: the extension keeps the day
    _set(obj, description=record.get("description"), start_time=start, stop_time=stop)
    obj["extensions"] = _extension(
        "relation",
        record["id"],
        predicate=record["predicate"],
        start_date=_date(record.get("start_date")),
        end_date=_date(record.get("end_date")),
        date_precision=record.get("date_precision"),
    )
    return obj


def event_object(record: Mapping, ctx: Context) -> dict:
    """An event as an `incident`; its type, dates, place, participants and casualties in the
    extension."""
    obj = _common("event", record, ctx)
    obj["name"] = record["title"]
    _set(obj, description=record.get("summary"))
    obj["extensions"] = _extension(
        "event",
        record["id"],
        event_type=record["type"],
        event_sub_type=record["sub_type"],
        date=_date(record["date"]),
        end_date=_date(record.get("end_date")),
        date_precision=record["date_precision"],
        date_kind=record.get("date_kind"),
        location_ref=ctx.ref("location", record.get("location")),
        fatalities=record.get("fatalities"),
        casualties=[
            {
                k: v
                for k, v in (
                    ("side_ref", ctx.ref("actor", c.get("side"))),
                    ("killed", c.get("killed")),
                    ("wounded", c.get("wounded")),
                    ("qualifier", c.get("qualifier")),
                )
                if v is not None
            }
            for c in record.get("casualties", ())
        ],
        participants=[
            {"actor_ref": ctx.ref("actor", p["actor"]), "role": p["role"]}
            for p in record.get("participants", ())
        ],
    )
    return obj


def statement_object(record: Mapping, ctx: Context) -> dict:
    """A statement as a `note`: the words as `content`, the speakers as `authors`, what it
    concerns as `object_refs`; channel, verbatim and dates in the extension."""
    obj = _common("statement", record, ctx)
    speakers = [ctx.ref("actor", s) for s in record.get("speakers", ())]
    principals = [ctx.ref("actor", a) for a in record.get("on_behalf_of", ())]
    addressees = [ctx.ref("actor", a) for a in record.get("addressees", ())]
    mentions = [ctx.ref("actor", a) for a in record.get("mentions", ())]
    events = [ctx.ref("event", e) for e in record.get("events", ())]
    concerned = list(dict.fromkeys([*speakers, *principals, *addressees, *mentions, *events]))
    if not concerned:  # STIX needs one: the reports that cite it
        concerned = [
            stix_id(ctx.namespace, "source", c["source"]["id"]) for c in record["citations"]
        ] or [PRODUCER_ID]
    _set(
        obj,
        abstract=record.get("summary"),
        content=record["text"],
        authors=[s["name"] for s in record.get("speakers", ())],
        object_refs=list(dict.fromkeys(concerned)),
    )
    obj["extensions"] = _extension(
        "statement",
        record["id"],
        verbatim=record["verbatim"],
        channel=record["channel"],
        date=_date(record["date"]),
        end_date=_date(record.get("end_date")),
        date_precision=record["date_precision"],
        date_kind=record.get("date_kind"),
        speaker_refs=speakers,
        on_behalf_of_refs=principals,
        addressee_refs=addressees,
        mention_refs=mentions,
        outlet_ref=ctx.ref("actor", record.get("outlet")),
        event_refs=events,
        anonymous=record.get("anonymous") or None,
        attribution=record.get("attribution"),
        signatory_count=record.get("signatory_count"),
    )
    return obj


_MAPPERS = {
    "source": source_object,
    "actor": actor_object,
    "location": location_object,
    "relation": relation_object,
    "event": event_object,
    "statement": statement_object,
}


def to_stix(record_type: str, record: Mapping, ctx: Context) -> dict:
    """The STIX object of a record as the JSON API writes it; its `modified` is never before
    the `updated_at` of a record it copies from (`copied_from`), so that a change there that
    changes the object gives it a new version."""
    obj = _MAPPERS[record_type](record, ctx)
    stamps = [ctx.stamps.get(key) for key in copied_from(record_type, record)]
    latest = max((timestamp(stamp) for stamp in stamps if stamp is not None), default=None)
    if latest is not None and latest > obj["modified"]:
        obj["modified"] = latest
    return obj


def _refs(*found: Any) -> list[Mapping]:
    """The record references among `found` (refs, lists of refs, None)."""
    refs: list[Mapping] = []
    for item in found:
        if isinstance(item, list):
            refs.extend(r for r in item if r)
        elif item:
            refs.append(item)
    return refs


def copied_from(record_type: str, record: Mapping) -> list[tuple[str, str]]:
    """(record type, slug) of the records whose properties a record's object copies: the
    sources its citations quote (title, url), the actors it refers to (their kind makes the
    type of their STIX id; a speaker's name is a note's author), the places around a place
    (administrative_area, city). Their changes re-render it (api/store/ddl.py STALE_STIX)."""
    found = [("source", c["source"]["id"]) for c in record.get("citations", ())]
    if record_type == "event":
        actors = _refs(
            [p.get("actor") for p in record.get("participants", ())],
            [c.get("side") for c in record.get("casualties", ())],
        )
    elif record_type == "relation":
        actors = _refs(record.get("subject"), record.get("object"))
    elif record_type == "statement":
        actors = _refs(
            record.get("speakers", []),
            record.get("on_behalf_of", []),
            record.get("addressees", []),
            record.get("mentions", []),
            record.get("outlet"),
        )
    else:
        actors = []
    found += [("actor", ref["id"]) for ref in actors]
    if record_type == "location":
        found += [("location", place["id"]) for place in record.get("ancestors", ())]
    return found


def revoked(change: Change, ctx: Context, actor_kinds: Mapping[str, str]) -> dict:
    """The tombstone of a deleted record as its STIX object, revoked: the properties STIX
    requires, from the record as it was, `modified` the time of its deletion."""
    before = json.loads(change.before) if change.before else {}
    record_type, slug = change.record_type, change.record
    kind = before.get("kind") if record_type == "actor" else None
    deleted = timestamp(change.time)
    first = ctx.journal.get((record_type, slug))
    obj: dict[str, Any] = {
        "type": stix_type(record_type, kind),
        "spec_version": SPEC_VERSION,
        "id": stix_id(ctx.namespace, record_type, slug, kind),
        "created_by_ref": PRODUCER_ID,
        "created": min(timestamp(first[0]), deleted) if first else deleted,
        "modified": deleted,
        "revoked": True,
    }
    name = before.get("name") or before.get("title") or slug
    if record_type in ("actor", "event", "location", "source"):
        obj["name"] = name
    if record_type == "location":
        _set(obj, country=before.get("country"))
        if before.get("latitude") is not None and before.get("longitude") is not None:
            obj["latitude"], obj["longitude"] = before["latitude"], before["longitude"]
        if "country" not in obj and "latitude" not in obj:
            obj["region"] = slug
    elif record_type == "relation":
        subject, obj_slug = before.get("subject", ""), before.get("object", "")
        obj["relationship_type"] = str(before.get("predicate", "related_to")).replace("_", "-")
        obj["source_ref"] = stix_id(ctx.namespace, "actor", subject, actor_kinds.get(subject))
        obj["target_ref"] = stix_id(ctx.namespace, "actor", obj_slug, actor_kinds.get(obj_slug))
    elif record_type == "statement":
        obj["content"] = before.get("text") or slug
        obj["object_refs"] = [PRODUCER_ID]
    elif record_type == "source":
        obj["published"] = timestamp(dt.date.fromisoformat(str(before.get("published"))[:10]))
        obj["object_refs"] = [PRODUCER_ID]
    obj["extensions"] = _extension(record_type, slug)
    return obj


# ---------------------------------------------------------------- what records do not carry


def sources_quoted(records: Iterable[Mapping]) -> dict[str, dict]:
    """{slug: {title, url, publisher}} of every source the records' citations quote (or that
    the records are), in one query."""
    slugs = {c["source"]["id"] for r in records for c in r.get("citations", ())}
    if not slugs:
        return {}
    query = Source.select(Source.slug, Source.title, Source.url, Source.publisher).where(
        Source.slug.in_(list(slugs))
    )
    return {slug: {"title": t, "url": u, "publisher": p} for slug, t, u, p in query.tuples()}


def journal_times(
    record_type: str, slugs: list[str]
) -> dict[tuple[str, str], tuple[dt.datetime, dt.datetime]]:
    """{(record type, slug): (time of its first journaled change, of its last)}, in one query
    (a record loaded around the journal, as the synthetic corpus is, has none)."""
    if not slugs:
        return {}
    # plain SQL: peewee compiling an IN of a thousand names took longer than the query
    param = database.obj.param
    table = f'"{Change._meta.table_name}"'  # quoted alike by SQLite and PostgreSQL
    cursor = database.execute_sql(
        f"SELECT record, MIN(time), MAX(time) FROM {table} WHERE record_type = {param} "
        f"AND record IN ({', '.join([param] * len(slugs))}) GROUP BY record",
        [record_type, *slugs],
    )
    return {
        (record_type, slug): (as_utc(_stored(first)), as_utc(_stored(last)))
        for slug, first, last in cursor
        if first
    }


def _stored(value: Any) -> dt.datetime:
    """A time read by an aggregate (SQLite gives it back as text)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def version_times(
    journal: tuple[dt.datetime, dt.datetime] | None, updated_at: Any
) -> tuple[str, str]:
    """(created, modified) as STIX timestamps: from the journal's first and last change when
    there are any (`modified` never before `updated_at`), else `updated_at` for both."""
    modified = timestamp(updated_at)
    if journal is None:
        return modified, modified
    created, last = timestamp(journal[0]), timestamp(journal[1])
    return min(created, max(last, modified)), max(last, modified)


_MODELS: dict[str, type[pw.Model]] = {
    "actor": Actor,
    "relation": Relation,
    "location": Location,
    "event": Event,
    "statement": Statement,
}


# A source's report reads every citation it makes (millions for a source of the synthetic
# corpus): remembered per data version, like the sources' counts.
_report_refs = data_version.PerVersion(maxsize=256)


def report_refs(
    namespace: uuid.UUID, source_slugs: list[str], at_most: int = REPORT_REFS_AT_MOST
) -> dict[str, tuple[list[str], int]]:
    """{source slug: (the STIX ids of the records it cites, at most `at_most`, and how many
    it cites)}: a report's `object_refs`, remembered per data version."""
    found = {}
    for slug in source_slugs:
        key = (namespace, slug, at_most)
        found[slug] = _report_refs.get(key, partial(_cited_by, namespace, slug, at_most))
    return found


def _cited_by(namespace: uuid.UUID, slug: str, at_most: int) -> tuple[list[str], int]:
    """`report_refs` of one source, read now."""
    source_id = Source.select(Source.id).where(Source.slug == slug).scalar()
    refs: list[str] = []
    total = 0
    for record_type, model in _MODELS.items():
        cited = (
            Citation.select(Citation.record_id)
            .where((Citation.source == source_id) & (Citation.record_type == record_type))
            .distinct()
        )
        total += cited.count()
        if len(refs) >= at_most:
            continue
        columns = [model.slug, model.kind] if record_type == "actor" else [model.slug]
        rows = (
            model.select(*columns)
            .where(model.id.in_(cited))
            .order_by(model.id)
            .limit(at_most - len(refs))
            .tuples()
        )
        for row in rows:
            kind = row[1] if len(row) > 1 else None
            refs.append(stix_id(namespace, record_type, row[0], kind))
    return refs, total


def context_for(namespace: uuid.UUID, base_url: str, records: Mapping[str, list[dict]]) -> Context:
    """The Context of the records of a page ({record type: records}): their sources, creation
    times and, for sources, what they yield."""
    everything = [r for found in records.values() for r in found]
    ctx = Context(namespace, base_url, sources_quoted(everything))
    for record_type, found in records.items():
        ctx.journal.update(journal_times(record_type, [r["id"] for r in found]))
    if records.get("source"):
        ctx.report_refs = report_refs(namespace, [r["id"] for r in records["source"]])
    ctx.stamps = updated_times(
        key
        for record_type, found in records.items()
        for r in found
        for key in copied_from(record_type, r)
    )
    return ctx


_STAMPED: dict[str, type[pw.Model]] = {"source": Source, "actor": Actor, "location": Location}


def updated_times(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """{(record type, slug): updated_at} of these sources, actors and places, one query a type."""
    found: dict[tuple[str, str], Any] = {}
    for record_type, slugs in grouped(keys).items():
        model = _STAMPED[record_type]
        wanted = list(set(slugs))
        for at in range(0, len(wanted), 1000):
            query = model.select(model.slug, model.updated_at).where(
                model.slug.in_(wanted[at : at + 1000])
            )
            found.update(((record_type, slug), stamp) for slug, stamp in query.tuples())
    return found


def actor_kinds(slugs: Iterable[str]) -> dict[str, str]:
    """{slug: kind} of the named actors that exist."""
    wanted = list(set(slugs))
    if not wanted:
        return {}
    return dict(Actor.select(Actor.slug, Actor.kind).where(Actor.slug.in_(wanted)).tuples())


def grouped(pairs: Iterable[tuple[str, Any]]) -> dict[str, list]:
    """[(key, value)] as {key: [values]}."""
    found: dict[str, list] = defaultdict(list)
    for key, value in pairs:
        found[key].append(value)
    return found
