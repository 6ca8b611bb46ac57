"""The actor network: who is tied to whom, through stated relations, co-participation in
events and co-signed statements, within a few hops of one actor."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import peewee as pw

from api.models import Actor, Event, EventParticipant, Relation, Statement, StatementSpeaker
from api.queries.errors import NotFound
from api.queries.loading import actor_ref, citations_for

EDGE_ORDER = {"relation": 0, "co_participation": 1, "co_signatory": 2}
# Record ids listed per co-participation / co-signatory edge, oldest first (issue #14: around a
# hub, every shared record of every kept pair was 333k rows at 1M events). The spec says 20.
EVIDENCE_LIMIT = 20
# kind -> (link table, its record column, record model, evidence field of the edge)
SHARED = {
    "co_participation": (EventParticipant, "event", Event, "events"),
    "co_signatory": (StatementSpeaker, "statement", Statement, "statements"),
}


def pairs(kind: str) -> tuple[Any, Any, Any, pw.Expression]:
    """Two aliases of a link table joined on the record they share, for two actors."""
    link, owner, _, _ = SHARED[kind]
    a, b = link.alias("a"), link.alias("b")
    return a, b, owner, (getattr(a, owner) == getattr(b, owner)) & (a.actor != b.actor)


def incident_edges(actor_ids: set[int], edges: dict[tuple, dict]) -> None:
    """Add to `edges` every edge touching `actor_ids`, co-records counted: three queries."""
    ids = list(actor_ids)
    for rel_id, subject, predicate, obj in (
        Relation.select(Relation.id, Relation.subject, Relation.predicate, Relation.object)
        .where(Relation.subject.in_(ids) | Relation.object.in_(ids))
        .tuples()
    ):
        edges.setdefault(
            ("relation", rel_id),
            {"kind": "relation", "ends": (subject, obj), "predicate": predicate, "id": rel_id},
        )
    for kind in SHARED:
        a, b, owner, shared = pairs(kind)
        query = (
            a.select(a.actor, b.actor, pw.fn.COUNT(getattr(a, owner).distinct()))
            .join(b, on=shared)
            # A pair within `actor_ids` comes once, not once from each end.
            .where(a.actor.in_(ids) & (b.actor.not_in(ids) | (a.actor < b.actor)))
            .group_by(a.actor, b.actor)
            .tuples()
        )
        for one, other, count in query:
            pair = (one, other) if one < other else (other, one)
            edges.setdefault((kind, *pair), {"kind": kind, "ends": pair, "weight": count})


def evidence(kind: str, kept: set[int], expanded: set[int]) -> dict[tuple, list[str]]:
    """{(actor, actor): record ids, oldest first, at most EVIDENCE_LIMIT} for the pairs of
    kept actors that share records and touch an expanded actor: one query, which numbers each
    pair's records (ROW_NUMBER) and returns only the first EVIDENCE_LIMIT of each."""
    a, b, owner, shared = pairs(kind)
    model = SHARED[kind][2]
    nth = pw.fn.ROW_NUMBER().over(partition_by=[a.actor, b.actor], order_by=[model.date, model.id])
    ranked = (
        a.select(
            a.actor.alias("one"),
            b.actor.alias("other"),
            model.slug.alias("slug"),
            model.date.alias("day"),
            model.id.alias("record"),
            nth.alias("nth"),
        )
        .join(b, on=shared)
        .join_from(a, model, on=(getattr(a, owner) == model.id))
        .where(a.actor.in_(list(expanded & kept)) & b.actor.in_(list(kept)))
        .alias("ranked")
    )
    query = (
        pw.Select([ranked], [ranked.c.one, ranked.c.other, ranked.c.slug])
        .where(ranked.c.nth <= EVIDENCE_LIMIT)
        .order_by(ranked.c.day, ranked.c.record)
        .bind(model._meta.database)
        .tuples()
    )
    found: dict[tuple, dict[str, None]] = defaultdict(dict)  # ordered sets of ids
    for one, other, slug in query:
        found[(one, other) if one < other else (other, one)][slug] = None
    return {pair: list(slugs)[:EVIDENCE_LIMIT] for pair, slugs in found.items()}


def network(slug: str, depth: int, limit: int) -> dict:
    """The actors and edges within `depth` hops of an actor, at most `limit` nodes.

    Each level finds the edges touching the level's frontier, with co-records only counted;
    the record ids are fetched once, for the edges between the nodes kept.
    """
    center = Actor.get_or_none(Actor.slug == slug)
    if center is None:
        raise NotFound(f"No actor with id {slug!r}.")
    depth_of = {center.id: 0}
    actors = {center.id: center}
    strength: dict[int, int] = defaultdict(int)
    score: dict[int, int] = {center.id: 0}  # strength when the node was reached
    edges: dict[tuple, dict] = {}

    def rank(n: int) -> tuple:  # nearest, then best connected, then by name
        return (depth_of[n], -score[n], actors[n].name, actors[n].slug)

    frontier, expanded = {center.id}, set()
    for level in range(1, depth + 1):
        before = set(edges)
        incident_edges(frontier, edges)
        expanded |= frontier
        reached = set()
        for key in set(edges) - before:
            for end in edges[key]["ends"]:
                strength[end] += edges[key].get("weight", 1)
                if end not in depth_of:
                    depth_of[end] = level
                    reached.add(end)
        if not reached:
            break
        actors.update((a.id, a) for a in Actor.select().where(Actor.id.in_(list(reached))))
        score.update((n, strength[n]) for n in reached)
        # Only the neighbours that can make the cut are explored further; scores are frozen
        # so that the nodes finally kept are among those explored.
        frontier = set(sorted(reached, key=rank)[: limit - 1])
    ranked = sorted(depth_of, key=rank)
    kept = set(ranked[:limit])
    shown = [e for e in edges.values() if set(e["ends"]) <= kept]
    citations = citations_for("relation", [e["id"] for e in shown if e["kind"] == "relation"])
    records = {
        kind: evidence(kind, kept, expanded) if any(e["kind"] == kind for e in shown) else {}
        for kind in SHARED
    }

    def place(n: int) -> tuple:
        return (depth_of[n], actors[n].slug)

    result_edges = []
    for edge in shown:
        kind, (source, target) = edge["kind"], edge["ends"]
        if kind != "relation" and place(target) < place(source):
            source, target = target, source
        shared = {"events": [], "statements": []}
        if kind != "relation":
            shared[SHARED[kind][3]] = records[kind].get(edge["ends"], [])
        result_edges.append(
            {
                "kind": kind,
                "source": actors[source].slug,
                "target": actors[target].slug,
                "predicate": edge["predicate"] if kind == "relation" else None,
                "citations": citations[edge["id"]] if kind == "relation" else [],
                **shared,
            }
        )
    result_edges.sort(
        key=lambda e: (EDGE_ORDER[e["kind"]], e["source"], e["target"], e["predicate"] or "")
    )
    return {
        "directed": True,  # node-link keys: networkx reads a directed multigraph
        "multigraph": True,
        "graph": {"actor": center.slug, "depth": depth},
        "actor": actor_ref(center),
        "depth": depth,
        "nodes": [{**actor_ref(actors[n]), "depth": depth_of[n]} for n in ranked[:limit]],
        "edges": result_edges,
        "truncated": len(ranked) > limit,
    }
