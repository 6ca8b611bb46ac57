"""The data model: peewee models only. Public ids are the `slug` columns."""

from __future__ import annotations

import datetime as dt

import peewee as pw

from api.store.db import database


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


def utcnow() -> dt.datetime:
    """Now in UTC, naive (as stored): `updated_at` and the change journal's `time`."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def version_field() -> pw.IntegerField:
    """A record's version: 1 when created, +1 on each change (ETag, If-Match, change feed)."""
    return pw.IntegerField(default=1)


def _updated_field() -> pw.DateTimeField:
    return pw.DateTimeField(default=utcnow, index=True)


DEFAULT_OWNER = "default"  # the owner of every key and source made before owners existed


def owner_field() -> pw.CharField:
    """The team or organisation a key or a source belongs to (api/ingest/owners.py). No index:
    keys and sources are few, and owners are read through them (a migration before v13 that
    creates the model's indexes would also meet an index on a column not added yet)."""
    return pw.CharField(max_length=100, default=DEFAULT_OWNER)


class Source(BaseModel):
    slug = pw.CharField(max_length=200, unique=True)
    title = pw.TextField()
    publisher = pw.CharField(max_length=200, index=True)
    published = pw.DateField(index=True)
    published_precision = pw.CharField(max_length=16, default="day")
    url = pw.TextField(null=True)
    author = pw.CharField(max_length=200, null=True)
    language = pw.CharField(max_length=8, default="en")
    text = pw.TextField(null=True)  # the article itself: what every citation is checked against
    version = version_field()
    updated_at = pw.DateTimeField(default=utcnow)  # no index: sources are few
    owner = owner_field()  # the owner of the key that first imported it


class Actor(BaseModel):
    slug = pw.CharField(max_length=200, unique=True)
    name = pw.CharField(max_length=200, index=True)
    kind = pw.CharField(max_length=32, index=True)
    title = pw.TextField(null=True)
    description = pw.TextField(null=True)
    country = pw.CharField(max_length=2, null=True, index=True)
    version = version_field()
    updated_at = _updated_field()

    class Meta:
        indexes = ((("updated_at", "id"), False),)  # TAXII's date-added order (as Event's)


class ActorAlias(BaseModel):
    actor = pw.ForeignKeyField(Actor, backref="aliases", on_delete="CASCADE")
    name = pw.CharField(max_length=200, index=True)
    language = pw.CharField(max_length=8, null=True)

    class Meta:
        indexes = ((("actor", "name"), True),)


class ActorIdentifier(BaseModel):
    """An external identifier of an actor: `scheme` (schemas/vocabularies.py
    IDENTIFIER_SCHEMES) and its `value`, with the curator's reason for it."""

    actor = pw.ForeignKeyField(Actor, backref="identifiers", on_delete="CASCADE")
    scheme = pw.CharField(max_length=16)
    value = pw.CharField(max_length=200)
    reason = pw.TextField(null=True)

    class Meta:
        indexes = ((("actor", "scheme", "value"), True), (("scheme", "value"), False))


def same_as_slug(left: str, right: str) -> str:
    """The public id of a same-as link: its two records' ids in order, `a--same-as--b`."""
    first, second = sorted((left, right))
    return f"{first}--same-as--{second}"


def relation_slug(subject: str, predicate: str, obj: str) -> str:
    """The public id of a relation: `esmail-ghaani--commands--quds-force`."""
    return f"{subject}--{predicate.replace('_', '-')}--{obj}"


class Relation(BaseModel):
    slug = pw.CharField(max_length=420, unique=True)
    subject = pw.ForeignKeyField(Actor, backref="relations_out", on_delete="CASCADE")
    predicate = pw.CharField(max_length=32, index=True)
    object = pw.ForeignKeyField(Actor, backref="relations_in", on_delete="CASCADE")
    start_date = pw.DateField(null=True)
    end_date = pw.DateField(null=True)
    date_precision = pw.CharField(max_length=16, default="day")
    description = pw.TextField(null=True)
    version = version_field()
    updated_at = _updated_field()

    class Meta:
        indexes = ((("subject", "predicate", "object"), True), (("updated_at", "id"), False))


class Location(BaseModel):
    slug = pw.CharField(max_length=200, unique=True)
    name = pw.CharField(max_length=200, index=True)
    kind = pw.CharField(max_length=32, index=True)
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    path = pw.TextField(index=True)  # "/iraq/anbar/ain-al-asad-air-base/": descendants by prefix
    latitude = pw.DoubleField(null=True)
    longitude = pw.DoubleField(null=True)
    coordinate_precision = pw.CharField(max_length=16, null=True)
    country = pw.CharField(max_length=2, null=True, index=True)
    description = pw.TextField(null=True)
    version = version_field()
    updated_at = _updated_field()
    # its place at each administrative level: itself or the outermost place around it of that
    # level (null: none), derived from the paths and kinds by api/store/places.py, which every
    # writer of a path or a kind calls; aggregates group by them
    country_place = pw.ForeignKeyField(
        "self", null=True, backref="+", on_delete="SET NULL", index=False
    )
    province_place = pw.ForeignKeyField(
        "self", null=True, backref="+", on_delete="SET NULL", index=False
    )
    district_place = pw.ForeignKeyField(
        "self", null=True, backref="+", on_delete="SET NULL", index=False
    )
    city_place = pw.ForeignKeyField(
        "self", null=True, backref="+", on_delete="SET NULL", index=False
    )

    class Meta:
        indexes = ((("latitude", "longitude"), False), (("updated_at", "id"), False))


class LocationRegion(BaseModel):
    """A region a location also lies in, beside its one administrative `parent` (the Sahel
    spans several countries): `within=` the region finds the location and what it encloses."""

    location = pw.ForeignKeyField(Location, backref="region_links", on_delete="CASCADE")
    region = pw.ForeignKeyField(Location, backref="member_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("location", "region"), True), (("region",), False))


class LocationAlias(BaseModel):
    location = pw.ForeignKeyField(Location, backref="aliases", on_delete="CASCADE")
    name = pw.CharField(max_length=200, index=True)
    language = pw.CharField(max_length=8, null=True)

    class Meta:
        indexes = ((("location", "name"), True),)


class LocationIdentifier(BaseModel):
    """An external identifier of a place (as ActorIdentifier)."""

    location = pw.ForeignKeyField(Location, backref="identifiers", on_delete="CASCADE")
    scheme = pw.CharField(max_length=16)
    value = pw.CharField(max_length=200)
    reason = pw.TextField(null=True)

    class Meta:
        indexes = ((("location", "scheme", "value"), True), (("scheme", "value"), False))


class _SameAs(BaseModel):
    """A curated, reversible statement that two records of one type denote the same thing:
    never a merge (both records stay; deleting the link restores everything). Cited by an
    excerpt of a source or reasoned in words, with a confidence and who asserted it.
    `left` is the record whose id sorts first."""

    slug = pw.CharField(max_length=420, unique=True)
    confidence = pw.FloatField()
    reason = pw.TextField(null=True)
    source = pw.ForeignKeyField(Source, null=True, on_delete="CASCADE")
    excerpt = pw.TextField(null=True)
    asserted_by = pw.CharField(max_length=100)  # the API key's name, or `cli`
    created_at = pw.DateTimeField(default=utcnow)


class ActorSameAs(_SameAs):
    left = pw.ForeignKeyField(Actor, backref="same_as_right", on_delete="CASCADE")
    right = pw.ForeignKeyField(Actor, backref="same_as_left", on_delete="CASCADE", index=True)

    class Meta:
        table_name = "actor_same_as"
        indexes = ((("left", "right"), True),)


class LocationSameAs(_SameAs):
    left = pw.ForeignKeyField(Location, backref="same_as_right", on_delete="CASCADE")
    right = pw.ForeignKeyField(Location, backref="same_as_left", on_delete="CASCADE", index=True)

    class Meta:
        table_name = "location_same_as"
        indexes = ((("left", "right"), True),)


_OPEN_START = dt.date(1, 1, 1)  # the range start of a date known only as "on or before"


def date_span(
    date: dt.date, end_date: dt.date | None, precision: str, kind: str = "point"
) -> tuple[dt.date, dt.date]:
    """The days a date of this precision may mean, as (first, last); `end_date` extends it.

    This is what `Dated.range_start` / `range_end` store, and what date filters overlap:
    a month-precise date covers the whole month, a week-precise one its Monday to Sunday.
    A `kind` of `on_or_before` (schemas/vocabularies.py DATE_KINDS) has an open start: it
    may cover any day up to the end of `date`'s period.
    """
    if kind == "on_or_before":
        return _OPEN_START, date_span(date, None, precision)[1]
    if precision == "week":
        start = date - dt.timedelta(days=date.weekday())
        end = start + dt.timedelta(days=6)
    elif precision == "month":
        start = date.replace(day=1)
        next_month = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        end = next_month - dt.timedelta(days=1)
    elif precision == "year":
        start, end = date.replace(month=1, day=1), date.replace(month=12, day=31)
    else:
        start = end = date
    return start, max(end, end_date or end)


class Dated(BaseModel):
    """A date with a precision; `range_start`/`range_end` is the span it may cover."""

    # read in date order through each table's (date, id, range_end, range_start) index, which
    # also answers the date filters from the index alone (a `date` index alone made the
    # planner walk it and read every row to test its span)
    date = pw.DateField()
    end_date = pw.DateField(null=True)
    date_precision = pw.CharField(max_length=16)
    # point | span | window | on_or_before (schemas/vocabularies.py DATE_KINDS)
    date_kind = pw.CharField(max_length=16, default="point")
    range_start = pw.DateField(index=True)
    range_end = pw.DateField(index=True)
    # the months of range_start and range_end as numbers (year * 12 + month - 1,
    # api/store/months.py), written with them: aggregates group by them
    start_month = pw.IntegerField(null=True)
    end_month = pw.IntegerField(null=True)
    # and their ISO weeks as numbers (api/store/months.py week_number)
    start_week = pw.IntegerField(null=True)
    end_week = pw.IntegerField(null=True)


class Event(Dated):
    slug = pw.CharField(max_length=200, unique=True)
    title = pw.TextField()
    summary = pw.TextField(null=True)
    type = pw.CharField(max_length=48, index=True)
    sub_type = pw.CharField(max_length=48, index=True)
    location = pw.ForeignKeyField(Location, null=True, backref="events", on_delete="SET NULL")
    fatalities = pw.IntegerField(null=True, index=True)
    version = version_field()
    updated_at = _updated_field()
    # its location's place at each administrative level (Location.country_place ...), 0 when
    # it has none there, -1 when the event has no place; kept by triggers whoever writes
    # (api/store/places.py): aggregates group by them without a join
    country_place_id = pw.IntegerField(default=-1, constraints=[pw.SQL("DEFAULT -1")])
    province_place_id = pw.IntegerField(default=-1, constraints=[pw.SQL("DEFAULT -1")])
    district_place_id = pw.IntegerField(default=-1, constraints=[pw.SQL("DEFAULT -1")])
    city_place_id = pw.IntegerField(default=-1, constraints=[pw.SQL("DEFAULT -1")])

    class Meta:
        # (date, id) + the span, instead of (date, id): a date filter is tested on the index
        # entries while the list is read in date order (a broad date_from fetched a year of
        # rows it skipped). Beside a (date, id) index the planners prefer that one.
        # (updated_at, id): TAXII pages in date-added order, keyset on both (an index on
        # updated_at alone made PostgreSQL sort every row of one time to page them by id)
        indexes = (
            (("title", "id"), False),
            (("date", "id", "range_end", "range_start"), False),
            (("updated_at", "id"), False),
        )  # and those of api/store/ddl.py AGGREGATE_INDEXES


class EventJson(BaseModel):
    """An event's record as JSON, rendered when it is written (api/queries/rendered.py) and read
    by JSON pages instead of being built again. `body` is NULL while stale: the
    triggers of api/store/ddl.py `STALE_EVENTS` set it so whenever anything the record shows
    changes, and the writer renders it again before its transaction ends."""

    event = pw.ForeignKeyField(Event, primary_key=True, on_delete="CASCADE")
    body = pw.TextField(null=True)

    class Meta:
        table_name = "event_json"


class StixJson(BaseModel):
    """A record's STIX 2.1 object as JSON (api/queries/stix_kept.py), with its `modified`: read
    by TAXII pages and STIX exports instead of being built again, unless `stix_stale` marks it
    (the triggers of api/store/ddl.py `STALE_STIX` do whenever the record or what its object
    copies from another record changes). Sources' reports are not kept (few, and they list what
    cites them)."""

    record_type = pw.CharField(max_length=16)
    record_id = pw.IntegerField()
    body = pw.TextField()
    modified = pw.CharField(max_length=32)  # the object's `modified`

    class Meta:
        table_name = "stix_json"
        primary_key = pw.CompositeKey("record_type", "record_id")
        # TAXII's match[version]: the objects of a type at a version (api/queries/taxii.py)
        indexes = ((("record_type", "modified", "record_id"), False),)


class StixStale(BaseModel):
    """A record whose kept STIX object is stale or missing: the writer renders it before its
    transaction ends (or `briefing db upgrade`, or a reader on the spot meanwhile)."""

    record_type = pw.CharField(max_length=16)
    record_id = pw.IntegerField()

    class Meta:
        table_name = "stix_stale"
        primary_key = pw.CompositeKey("record_type", "record_id")


class EventCasualty(BaseModel):
    """One casualty figure of an event: killed and wounded of one side (an actor, or null
    when the source does not split by side), exact, at least or about (CASUALTY_QUALIFIERS).
    A null count is "not given"; 0 is "none"."""

    event = pw.ForeignKeyField(Event, backref="casualties", on_delete="CASCADE")
    side = pw.ForeignKeyField(Actor, null=True, backref="casualties", on_delete="CASCADE")
    killed = pw.IntegerField(null=True)
    wounded = pw.IntegerField(null=True)
    qualifier = pw.CharField(max_length=16, default="exact")
    position = pw.SmallIntegerField(default=0)


class EventParticipant(BaseModel):
    event = pw.ForeignKeyField(Event, backref="participants", on_delete="CASCADE")
    actor = pw.ForeignKeyField(Actor, backref="participations", on_delete="CASCADE")
    role = pw.CharField(max_length=32, index=True)

    class Meta:
        # (actor, event): an actor's events in order, read from the index alone (the network's
        # latest records of an actor, facets by actor)
        indexes = (
            (("event", "actor", "role"), True),
            (("actor", "role"), False),
            (("actor", "event"), False),
        )


class Statement(Dated):
    slug = pw.CharField(max_length=200, unique=True)
    text = pw.TextField()
    verbatim = pw.BooleanField(index=True)
    summary = pw.TextField(null=True)
    channel = pw.CharField(max_length=32, index=True)
    outlet = pw.ForeignKeyField(Actor, null=True, backref="outlet_statements", on_delete="SET NULL")
    signatory_count = pw.IntegerField(null=True)
    anonymous = pw.BooleanField(default=False, index=True)
    attribution = pw.TextField(null=True)
    version = version_field()
    updated_at = _updated_field()

    class Meta:
        indexes = (  # as Event's
            (("date", "id", "range_end", "range_start"), False),
            (("updated_at", "id"), False),
        )


class StatementSpeaker(BaseModel):
    statement = pw.ForeignKeyField(Statement, backref="speaker_links", on_delete="CASCADE")
    actor = pw.ForeignKeyField(Actor, backref="spoken", on_delete="CASCADE")
    position = pw.SmallIntegerField(default=0)

    class Meta:
        indexes = ((("statement", "actor"), True), (("actor", "statement"), False))


class StatementPrincipal(BaseModel):
    """An actor a statement's speakers spoke on behalf of (a spokesman's group)."""

    statement = pw.ForeignKeyField(Statement, backref="principal_links", on_delete="CASCADE")
    actor = pw.ForeignKeyField(Actor, backref="represented", on_delete="CASCADE")

    class Meta:
        indexes = ((("statement", "actor"), True), (("actor",), False))


class StatementAddressee(BaseModel):
    statement = pw.ForeignKeyField(Statement, backref="addressee_links", on_delete="CASCADE")
    actor = pw.ForeignKeyField(Actor, backref="addressed", on_delete="CASCADE")

    class Meta:
        indexes = ((("statement", "actor"), True),)


class StatementMention(BaseModel):
    """An actor a statement is about (other than its addressees)."""

    statement = pw.ForeignKeyField(Statement, backref="mention_links", on_delete="CASCADE")
    actor = pw.ForeignKeyField(Actor, backref="mentioned", on_delete="CASCADE")

    class Meta:
        indexes = ((("statement", "actor"), True),)


class StatementEvent(BaseModel):
    statement = pw.ForeignKeyField(Statement, backref="event_links", on_delete="CASCADE")
    event = pw.ForeignKeyField(Event, backref="statement_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("statement", "event"), True),)


class Citation(BaseModel):
    """The verbatim excerpt of a source that supports one record of any collection."""

    record_type = pw.CharField(max_length=16)  # actor, relation, location, event, statement
    record_id = pw.IntegerField()
    source = pw.ForeignKeyField(Source, backref="citations", on_delete="CASCADE")
    excerpt = pw.TextField()
    position = pw.SmallIntegerField(default=0)
    # The source whose bundle contributed this citation (it may quote another source); null
    # means `source` itself. Re-importing or deleting a bundle touches only its own citations.
    bundle = pw.ForeignKeyField(Source, null=True, backref="contributed", on_delete="CASCADE")
    # A public-record citation (a fact from outside the source, seed/README.md "Citations"):
    # what the record is, where it can be checked, and the fields of the record it supports
    # (space-separated); `excerpt` then holds the fact it establishes, and `source` is the
    # source whose bundle gives it. All three null for an excerpt of `source`.
    public_record = pw.TextField(null=True)
    public_record_where = pw.TextField(null=True)
    supports = pw.TextField(null=True)

    class Meta:
        indexes = (
            (("record_type", "record_id"), False),
            (("source", "record_type", "record_id"), False),  # what a source yielded
            (("bundle", "record_type", "record_id"), False),  # what a bundle contributed
        )


class SearchDocument(BaseModel):
    """The text of one record, indexed for full text by api/search.py (FTS5 or tsvector)."""

    record_type = pw.CharField(max_length=16)
    record_id = pw.IntegerField()
    title = pw.TextField()
    body = pw.TextField()

    class Meta:
        indexes = ((("record_type", "record_id"), True),)


class ApiKey(BaseModel):
    """An API key: a public prefix to find it by, and only a slow (argon2) hash of the secret.
    After a rotation the previous secret's hash is kept until `previous_until` (its grace)."""

    name = pw.CharField(max_length=100, unique=True)
    prefix = pw.CharField(max_length=32, unique=True)
    secret_hash = pw.TextField()
    scope = pw.CharField(max_length=16)
    created_at = pw.DateTimeField()
    revoked_at = pw.DateTimeField(null=True)
    owner = owner_field()
    expires_at = pw.DateTimeField(null=True)
    last_used_at = pw.DateTimeField(null=True)  # written at most once per LAST_USED_SECONDS
    previous_hash = pw.TextField(null=True)
    previous_until = pw.DateTimeField(null=True)


class Change(BaseModel):
    """One change of one record, by an import or a record write: the change feed (`id` is its
    `seq`) and the audit trail. Written under the write lock, so `id` grows in commit order."""

    time = pw.DateTimeField(default=utcnow, index=True)
    key = pw.CharField(max_length=100, index=True)  # the API key's name, or `cli`
    owner = pw.CharField(max_length=100, null=True)  # the key's owner then; null: the CLI, or older
    op = pw.CharField(max_length=8)  # create, update, delete
    record_type = pw.CharField(max_length=16)
    record = pw.CharField(max_length=420)  # the public id
    version = pw.IntegerField()
    before = pw.TextField(null=True)  # JSON: the record as a bundle has it, with citations
    after = pw.TextField(null=True)

    class Meta:
        indexes = ((("record_type", "record"), False),)


class ChangeSource(BaseModel):
    """A source a change concerns: one its record cites before or after the change (a
    tombstone keeps those of its last state), or the changed source itself. The feed's, the
    stream's and the subscriptions' `source` filter."""

    change = pw.ForeignKeyField(Change, backref="sources", on_delete="CASCADE")
    source = pw.CharField(max_length=200)  # the source's public id

    class Meta:
        indexes = ((("source", "change"), True),)


def sources_of_change(record_type: str, record: str, *states: dict | None) -> set[str]:
    """The sources a change concerns (ChangeSource): a changed source itself, else every
    source the record cites in any of its `states` (before and after, bundle form)."""
    if record_type == "source":
        return {record}
    return {
        citation["source"]
        for state in states
        if state
        for citation in state.get("citations") or ()
        if citation.get("source")
    }


class Subscription(BaseModel):
    """A webhook subscription (api/push/): where to POST the changes that match its filters,
    signed with its secret (Standard Webhooks). Delivered in feed order by `briefing deliver`,
    which leases it (`claimed_by` until `claimed_until`) while it delivers."""

    slug = pw.CharField(max_length=40, unique=True)  # the public id
    key = pw.CharField(max_length=100, index=True)  # the name of the API key that made it
    url = pw.TextField()
    description = pw.TextField(null=True)
    record_types = pw.TextField(null=True)  # space-separated; null: every type
    sources = pw.TextField(null=True)  # space-separated source ids; null: every source
    secret = pw.CharField(max_length=100)  # whsec_...: HMAC needs it in the clear
    previous_secret = pw.CharField(max_length=100, null=True)  # still signs until:
    previous_secret_until = pw.DateTimeField(null=True)
    enabled = pw.BooleanField(default=True)
    disabled_reason = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)
    retry_at = pw.DateTimeField(null=True)  # after a failed attempt: not before then
    claimed_by = pw.CharField(max_length=64, null=True)
    claimed_until = pw.DateTimeField(null=True)


class Delivery(BaseModel):
    """The outbox: one change to deliver to one subscription, written in the change's own
    transaction (api/ingest/outbox.py); `id` order is feed order within a subscription."""

    subscription = pw.ForeignKeyField(Subscription, backref="deliveries", on_delete="CASCADE")
    change = pw.ForeignKeyField(Change, on_delete="CASCADE")
    status = pw.CharField(max_length=16, default="pending")  # pending, delivered, failed
    attempts = pw.IntegerField(default=0)
    last_attempt_at = pw.DateTimeField(null=True)
    last_status = pw.IntegerField(null=True)  # the receiver's HTTP status
    last_error = pw.TextField(null=True)
    delivered_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("subscription", "status", "id"), False),)


class SchemaVersion(BaseModel):
    """One row: the schema version of this database (api/store/migrations.py)."""

    version = pw.IntegerField()


class DataVersion(BaseModel):
    """One row: the version of the data, bumped in the transaction of every write (
    api/store/data_version.py). `epoch` is drawn when the table is made, so two databases never
    share a version; response caches key on both."""

    epoch = pw.CharField(max_length=32)
    version = pw.BigIntegerField()


class SharedAnswer(BaseModel):
    """An answer computed at one data version, kept for every worker and host of the database
    (api/store/shared_answers.py): `key` is a digest of what was asked, `answer` its JSON."""

    version = pw.CharField(max_length=80)
    key = pw.CharField(max_length=64)
    answer = pw.TextField()

    class Meta:
        primary_key = pw.CompositeKey("version", "key")


class Release(BaseModel):
    """A named, immutable version of the data: a snapshot of the database (api/store/snapshots.py:
    a SQLite file, or a PostgreSQL schema, named by `storage`) taken at change-feed `seq`. A
    deleted release keeps its row as a tombstone (who deleted it, when), so its name is never
    given to other data."""

    name = pw.CharField(max_length=64, unique=True)
    description = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    created_by = pw.CharField(max_length=100)  # the API key's name, or `cli`
    seq = pw.BigIntegerField()  # the last change of the journal the release holds (0: none)
    counts = pw.TextField()  # JSON: records per collection
    schema_version = pw.IntegerField()
    storage = pw.CharField(max_length=63)  # the snapshot's file name or schema name
    snapshot_bytes = pw.BigIntegerField(default=0)
    downloads = pw.TextField(default="[]")  # JSON: [{file, bytes, sha256}]
    deleted_at = pw.DateTimeField(null=True)
    deleted_by = pw.CharField(max_length=100, null=True)


class StixAdded(BaseModel):
    """When a kept STIX object got a new version that its record's `updated_at` does not say:
    rendered again after a record it copies from changed (api/queries/stix_kept.py `settle`).
    A TAXII collection lists the object at this time instead while it is the later one
    (api/queries/taxii.py), so a poll with `added_after` sees the new version."""

    record_type = pw.CharField(max_length=16)
    record_id = pw.IntegerField()
    added = pw.DateTimeField()

    class Meta:
        table_name = "stix_added"
        primary_key = pw.CompositeKey("record_type", "record_id")
        indexes = ((("record_type", "added", "record_id"), False),)


# Every table of the schema (create_tables orders them by their foreign keys).
TABLES: tuple[type[BaseModel], ...] = (
    Source,
    Actor,
    ActorAlias,
    ActorIdentifier,
    Relation,
    Location,
    LocationAlias,
    LocationIdentifier,
    LocationRegion,
    ActorSameAs,
    LocationSameAs,
    Event,
    EventParticipant,
    EventCasualty,
    EventJson,
    StixJson,
    StixStale,
    StixAdded,
    Statement,
    StatementSpeaker,
    StatementPrincipal,
    StatementAddressee,
    StatementMention,
    StatementEvent,
    Citation,
    SearchDocument,
    ApiKey,
    Change,
    ChangeSource,
    Subscription,
    Delivery,
    SchemaVersion,
    DataVersion,
    SharedAnswer,
    Release,
)
