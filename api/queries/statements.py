"""`statement` records: who said what, to whom, when and through which channel."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import peewee as pw

from api.queries.collection import Collection
from api.queries.filters import (
    Filter,
    any_of,
    cited_by,
    date_from,
    date_to,
    equals,
    ids_for,
    member,
)
from api.queries.identity import actor_ids
from api.queries.list_query import ListQuery
from api.queries.loading import (
    Row,
    actor_ref,
    as_utc,
    citations_for,
    prepared,
    rows_by_id,
)
from api.queries.paging import sorts_for
from api.store.models import (
    Actor,
    Event,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementPrincipal,
    StatementSpeaker,
)


def linked_actors(link: type[pw.Model], statement_ids: list[int]) -> dict[int, list[dict]]:
    """{statement id: [actor refs]} through a statement-to-actor link table, in one query."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not statement_ids:
        return result
    order = [link.position, link.id] if "position" in link._meta.fields else [link.id]
    cursor = prepared(
        f"linked_actors:{link._meta.table_name}",
        lambda ids: (
            link.select(link.statement, Actor.slug, Actor.name, Actor.kind)
            .join(Actor)
            .where(link.statement.in_(ids))
            .order_by(*order)
            .tuples()
        ),
        statement_ids,
    )
    for owner, slug, name, kind in cursor:
        result[owner].append({"id": slug, "name": name, "kind": kind})
    return result


def linked_events(statement_ids: list[int]) -> dict[int, list[dict]]:
    """{statement id: [event refs]}, oldest event first, in one query."""
    result: dict[int, list[dict]] = defaultdict(list)
    if not statement_ids:
        return result
    cursor = prepared(
        "linked_events",
        lambda ids: (
            StatementEvent.select(StatementEvent.statement, Event.slug, Event.title, Event.date)
            .join(Event)
            .where(StatementEvent.statement.in_(ids))
            .order_by(Event.date, Event.id)
            .tuples()
        ),
        statement_ids,
    )
    parse_date = dt.date.fromisoformat  # SQLite's text; PostgreSQL returns dates
    for owner, slug, title, date in cursor:
        if type(date) is str:
            date = parse_date(date)
        result[owner].append({"id": slug, "title": title, "date": date})
    return result


def _load_statements(statements: list[Row]) -> list[dict]:
    """Statement records for a page of rows (loading.Row dicts; a fixed number of queries),
    keys in the order of the response schema (see Collection.records_as_dumped)."""
    ids = [statement["id"] for statement in statements]
    speakers = linked_actors(StatementSpeaker, ids)
    principals = linked_actors(StatementPrincipal, ids)
    addressees = linked_actors(StatementAddressee, ids)
    mentions = linked_actors(StatementMention, ids)
    events = linked_events(ids)
    outlets = rows_by_id(Actor, list({s["outlet_id"] for s in statements if s["outlet_id"]}))
    citations = citations_for("statement", ids)
    records = []
    for statement in statements:
        statement_id, outlet = statement["id"], statement["outlet_id"]
        records.append(
            {
                "id": statement["slug"],
                "text": statement["text"],
                "verbatim": statement["verbatim"],
                "summary": statement["summary"],
                "speakers": speakers[statement_id],
                "on_behalf_of": principals[statement_id],
                "anonymous": statement["anonymous"],
                "attribution": statement["attribution"],
                "signatory_count": statement["signatory_count"],
                "addressees": addressees[statement_id],
                "mentions": mentions[statement_id],
                "channel": statement["channel"],
                "outlet": actor_ref(outlets[outlet]) if outlet else None,
                "date": statement["date"],
                "end_date": statement["end_date"],
                "date_precision": statement["date_precision"],
                "date_kind": statement["date_kind"],
                "events": events[statement_id],
                "citations": citations[statement_id],
                "version": statement["version"],
                "updated_at": as_utc(statement["updated_at"]),
            }
        )
    return records


def _statements_linked(link: type[pw.Model], parameter: str) -> Filter:
    """Statements linked to any of the actors through `link` (speakers, addressees, ...)."""

    def apply(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
        linked = actor_ids(slugs, parameter, asked)
        links = link.select(link.statement).where(link.actor.in_(linked))
        return member(Statement.id, (links, link.statement))

    return apply


def statement_speaker(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Statements any of the actors made, or that were made on behalf of one of them (a
    spokesman's words are found under his group)."""
    speakers = actor_ids(slugs, "speaker", asked)
    spoken = StatementSpeaker.select(StatementSpeaker.statement).where(
        StatementSpeaker.actor.in_(speakers)
    )
    represented = StatementPrincipal.select(StatementPrincipal.statement).where(
        StatementPrincipal.actor.in_(speakers)
    )
    return member(
        Statement.id,
        (spoken, StatementSpeaker.statement),
        (represented, StatementPrincipal.statement),
    )


def statement_actor(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Statements any of the actors made (or that were made on their behalf) or that were
    addressed to one of them."""
    actors = actor_ids(slugs, "actor", asked)
    spoken = StatementSpeaker.select(StatementSpeaker.statement).where(
        StatementSpeaker.actor.in_(actors)
    )
    represented = StatementPrincipal.select(StatementPrincipal.statement).where(
        StatementPrincipal.actor.in_(actors)
    )
    addressed = StatementAddressee.select(StatementAddressee.statement).where(
        StatementAddressee.actor.in_(actors)
    )
    return (  # one IN over a UNION
        member(
            Statement.id,
            (spoken, StatementSpeaker.statement),
            (represented, StatementPrincipal.statement),
            (addressed, StatementAddressee.statement),
        )
    )


def statement_event(slugs: Sequence[str], asked: ListQuery) -> pw.Node:
    """Statements about any of the events."""
    event_ids = ids_for(Event, slugs, "event")
    linked = StatementEvent.select(StatementEvent.statement).where(
        StatementEvent.event.in_(event_ids)
    )
    return member(Statement.id, (linked, StatementEvent.statement))


STATEMENTS = Collection(
    name="statement",
    model=Statement,
    sorts=sorts_for({"date": Statement.date}),
    default_sort="date",
    filters={
        "speaker": statement_speaker,
        "addressed_to": _statements_linked(StatementAddressee, "addressed_to"),
        "mentions": _statements_linked(StatementMention, "mentions"),
        "anonymous": equals(Statement.anonymous),
        "actor": statement_actor,
        "event": statement_event,
        "channel": any_of(Statement.channel),
        "verbatim": equals(Statement.verbatim),
        "date_from": date_from(Statement),
        "date_to": date_to(Statement),
        "source": cited_by("statement", Statement),
    },
    load=_load_statements,
    light_rows=True,
    records_as_dumped=True,
)
