"""The actor network: who is tied to whom, through stated relations, co-participation in
events and co-signed statements, within a few hops of one actor."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

import peewee as pw

from api.queries.errors import NotFound
from api.queries.identity import Groups, groups
from api.queries.loading import actor_ref, citations_for
from api.store.db import is_postgres
from api.store.models import Actor, Event, EventParticipant, Relation, Statement, StatementSpeaker

_EDGE_ORDER = {"relation": 0, "co_participation": 1, "co_signatory": 2}
# Record ids listed per co-participation / co-signatory edge, oldest first (around a
# hub, every shared record of every kept pair was 333k rows at 1M events). The spec says 20.
EVIDENCE_LIMIT = 20
# Co-participation and co-signatory ties of an actor are looked for in its latest
# RECORDS_PER_ACTOR events and statements (the most recently recorded: highest internal id),
# read from the (actor, record) indexes: a hub's 20,000 events are never all joined (at depth
# 2 around a hub, joining them all takes far beyond a request's budget). The spec says 100.
RECORDS_PER_ACTOR = 100
EVIDENCE_IDS_PER_QUERY = 10_000  # bound parameters stay under SQLite's 32,766
ARMS_PER_QUERY = 250  # per-actor subqueries in one UNION ALL (SQLite allows 500)
# kind -> (link table, its record column, record model, evidence field of the edge)
_SHARED = {
    "co_participation": (EventParticipant, "event", Event, "events"),
    "co_signatory": (StatementSpeaker, "statement", Statement, "statements"),
}


# An actor id no record has: the arms are rendered once with it, then given each actor's id.
_PLACEHOLDER = -7_297_301


def _per_actor_arms(
    arms: list[Callable[[int], pw.SelectQuery]], actors: list[int]
) -> Iterator[tuple[str, list]]:
    """(sql, params) of `UNION ALL`s of every arm for every actor, ARMS_PER_QUERY arms to a
    statement. Each arm (its own ORDER BY and LIMIT) is rendered by peewee once and repeated
    as text: building hundreds of arms node by node was most of the network's time at 1M
    events."""
    rendered = []
    for arm in arms:
        sql, params = arm(_PLACEHOLDER).sql()
        slots = [n for n, value in enumerate(params) if value == _PLACEHOLDER]
        assert slots, "the arm must compare a column with its actor"
        rendered.append((sql, params, slots))
    per_statement = max(1, ARMS_PER_QUERY // len(arms))
    for start in range(0, len(actors), per_statement):
        texts: list[str] = []
        values: list = []
        for actor in actors[start : start + per_statement]:
            for sql, params, slots in rendered:
                texts.append(f"SELECT * FROM ({sql}) AS arm{len(texts)}")
                values += [actor if n in slots else value for n, value in enumerate(params)]
        yield " UNION ALL ".join(texts), values


def _relation_edges(ids: list[int], edges: dict[tuple, dict], within: list[int] | None) -> None:
    """Add to `edges` the stated relations with an end in `ids`: with the other end in
    `within` when given, else the latest RECORDS_PER_ACTOR of each actor as subject and as
    object (a state is the object of thousands of `citizen_of`)."""
    columns = (Relation.id, Relation.subject, Relation.predicate, Relation.object)
    if within is not None:
        rows = (
            Relation.select(*columns).where(Relation.subject.in_(ids) & Relation.object.in_(within))
            | Relation.select(*columns).where(
                Relation.object.in_(ids) & Relation.subject.in_(within)
            )
        ).tuples()
    else:

        def latest_at(end: pw.Field) -> Callable[[int], pw.SelectQuery]:
            """The arm of an actor's latest relations with the actor at `end`."""
            return lambda actor: (
                Relation.select(*columns)
                .where(end == actor)
                .order_by(Relation.id.desc())
                .limit(RECORDS_PER_ACTOR)
            )

        arms = [latest_at(end) for end in (Relation.subject, Relation.object)]
        database = Relation._meta.database
        rows = (
            row
            for sql, params in _per_actor_arms(arms, ids)
            for row in database.execute_sql(sql, params).fetchall()
        )
    for rel_id, subject, predicate, obj in rows:
        edges.setdefault(
            ("relation", rel_id),
            {"kind": "relation", "ends": (subject, obj), "predicate": predicate, "id": rel_id},
        )


def _shared_records(kind: str, ids: list[int], within: list[int] | None) -> Iterator[tuple]:
    """(actor, other actor, record id) of the records each actor of `ids` shares with another
    (of `within`, when given), among its latest RECORDS_PER_ACTOR records."""
    link, owner, _, _ = _SHARED[kind]
    record = getattr(link, owner)
    database = link._meta.database

    def latest(actor: int) -> pw.SelectQuery:
        return (
            link.select(link.actor.alias("actor"), record.alias("record"))
            .where(link.actor == actor)
            .order_by(record.desc())
            .limit(RECORDS_PER_ACTOR)
        )

    table, actor_column = link._meta.table_name, link.actor.column_name
    record_column = record.column_name
    tie = (
        f'SELECT sample.actor, other."{actor_column}", sample.record FROM ({{}}) AS sample '
        f'JOIN "{table}" AS other ON other."{record_column}" = sample.record '
        f'AND other."{actor_column}" <> sample.actor'
    )
    others: list = []
    if within is not None:
        # `+ 0`: a test on each joined row, never the index of `within`'s own links
        test, others = among(database, list(within) or [_PLACEHOLDER])
        tie += f' WHERE other."{actor_column}" + 0 {test}'
    if is_postgres(database):
        # One LATERAL over the actors: PostgreSQL is slow to plan a UNION of 100 arms.
        param = database.param
        sample = (
            f"SELECT ids.actor, latest.record FROM unnest({param}::integer[]) AS ids(actor) "
            f'CROSS JOIN LATERAL (SELECT "{record_column}" AS record FROM "{table}" '
            f'WHERE "{actor_column}" = ids.actor ORDER BY "{record_column}" DESC '
            f"LIMIT {param}) AS latest"
        )
        statements: Iterable[tuple[str, list]] = [(sample, [ids, RECORDS_PER_ACTOR])]
    else:
        statements = _per_actor_arms([latest], ids)
    for sample, params in statements:
        yield from database.execute_sql(tie.format(sample), params + others).fetchall()


def among(database: pw.Database, ids: list[int]) -> tuple[str, list]:
    """The SQL after a column that tests it against `ids`, and its parameters: `= ANY(%s)`,
    one array, on PostgreSQL (planned at once, however many ids); `IN (?, ...)` on SQLite."""
    if is_postgres(database):
        return f"= ANY({database.param})", [ids]
    return f"IN ({', '.join([database.param] * len(ids))})", ids


def _incident_edges(
    actor_ids: set[int], edges: dict[tuple, dict], within: set[int] | None = None
) -> None:
    """Add to `edges` every edge touching `actor_ids` (whose other end is in `within`, when
    given): their relations, and the ties through their latest records (one query per kind);
    a tie found again gathers its records."""
    ids = sorted(actor_ids)
    others = sorted(within) if within is not None else None
    _relation_edges(ids, edges, others)
    for kind in _SHARED:
        for one, other, record in _shared_records(kind, ids, others):
            pair = (one, other) if one < other else (other, one)
            edge = edges.setdefault((kind, *pair), {"kind": kind, "ends": pair, "records": set()})
            edge["records"].add(record)
    for edge in edges.values():
        if "records" in edge and "weight" not in edge:
            edge["weight"] = len(edge["records"])  # frozen when first found, like the scores


def evidence(shown: list[dict]) -> dict[tuple[str, int], tuple[str, str]]:
    """{(kind, record id): (date, public id)} of the shared records of the `shown` edges:
    one query over both record tables (per EVIDENCE_IDS_PER_QUERY ids of each). Plain SQL
    with the ids bound as they are: peewee converted thousands of ids one by one."""
    records: dict[str, set[int]] = {kind: set() for kind in _SHARED}
    for edge in shown:
        if edge["kind"] in records:
            records[edge["kind"]] |= edge["records"]
    wanted = {kind: sorted(ids) for kind, ids in records.items()}
    database = Relation._meta.database
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for start in range(0, max(map(len, wanted.values())), EVIDENCE_IDS_PER_QUERY):
        parts, params = [], []
        for kind, (_, _, model, _) in _SHARED.items():
            ids = wanted[kind][start : start + EVIDENCE_IDS_PER_QUERY]
            if ids:
                test, values = among(database, ids)
                parts.append(
                    f'SELECT \'{kind}\', "id", "date", "slug" FROM '
                    f'"{model._meta.table_name}" WHERE "id" {test}'
                )
                params += values
        rows = database.execute_sql(" UNION ALL ".join(parts), params).fetchall()
        found.update(((kind, record), (str(day), slug)) for kind, record, day, slug in rows)
    return found


def network(slug: str, depth: int, limit: int, resolve: bool = False) -> dict:
    """The actors and edges within `depth` hops of an actor, at most `limit` nodes; with
    `resolve`, each same-as group as one node (the group's id), reached from every member.

    Each level finds the edges touching the level's frontier (ties through each frontier
    actor's latest RECORDS_PER_ACTOR records); only the actors that can make the cut are
    loaded, so a hub's tens of thousands of neighbours cost a sort of ids, not rows.
    """
    center = Actor.get_or_none(Actor.slug == slug)
    if center is None:
        raise NotFound(f"No actor with id {slug!r}.")
    same_as = groups("actor") if resolve else None
    start = [center.id]
    if same_as is not None and center.id in same_as.group_of:
        start = [member[0] for member in same_as.members[same_as.head(center.id)]]
    depth_of = dict.fromkeys(start, 0)
    actors = {row.id: row for row in Actor.select().where(Actor.id.in_(start))}
    strength: dict[int, int] = defaultdict(int)
    score: dict[int, int] = dict.fromkeys(start, 0)  # strength when the node was reached
    edges: dict[tuple, dict] = {}

    def best(candidates: Iterable[int], n: int) -> list[int]:
        """The `n` best of `candidates`: nearest, then best connected, then by name (the
        actors loaded only for the candidates that can make the cut)."""
        coarse = sorted(candidates, key=lambda c: (depth_of[c], -score[c]))
        if len(coarse) > n:
            last = (depth_of[coarse[n - 1]], -score[coarse[n - 1]])
            coarse = [c for c in coarse if (depth_of[c], -score[c]) <= last]
        missing = [c for c in coarse if c not in actors]
        for start in range(0, len(missing), 10_000):
            chunk = missing[start : start + 10_000]
            actors.update((a.id, a) for a in Actor.select().where(Actor.id.in_(chunk)))
        coarse.sort(key=lambda c: (depth_of[c], -score[c], actors[c].name, actors[c].slug))
        return coarse[:n]

    frontier = set(start)
    for level in range(1, depth + 1):
        before = set(edges)
        # With more than `limit` nodes already nearer, none found now can make the cut: only
        # the edges among the nodes kept so far still matter (truncated is already true).
        within = set(best(depth_of, limit)) if len(depth_of) > limit else None
        _incident_edges(frontier, edges, within)
        reached = set()
        for key in set(edges) - before:
            for end in edges[key]["ends"]:
                strength[end] += edges[key].get("weight", 1)
                if end not in depth_of:
                    depth_of[end] = level
                    reached.add(end)
        if not reached:
            break
        score.update((n, strength[n]) for n in reached)
        # Only the neighbours that can make the cut are explored further; scores are frozen
        # so that the nodes finally kept are among those explored.
        frontier = set(best(reached, limit - 1))
    ranked = best(depth_of, limit)
    kept = set(ranked)
    shown = [e for e in edges.values() if set(e["ends"]) <= kept]
    citations = citations_for("relation", [e["id"] for e in shown if e["kind"] == "relation"])
    facts = evidence(shown)

    def place(n: int) -> tuple:
        return (depth_of[n], actors[n].slug)

    result_edges = []
    for edge in shown:
        kind, (source, target) = edge["kind"], edge["ends"]
        if kind != "relation" and place(target) < place(source):
            source, target = target, source
        shared: dict[str, list] = {"events": [], "statements": []}
        if kind != "relation":
            found = sorted((*facts[(kind, r)], r) for r in edge["records"])
            shared[_SHARED[kind][3]] = [slug for _, slug, _ in found[:EVIDENCE_LIMIT]]
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
    nodes = [{**actor_ref(actors[n]), "depth": depth_of[n]} for n in ranked]
    if same_as is not None and same_as.group_of:
        center = actors.get(same_as.head(center.id), center)
        nodes, result_edges = _as_groups(same_as, nodes, result_edges)
    result_edges.sort(
        key=lambda e: (_EDGE_ORDER[e["kind"]], e["source"], e["target"], e["predicate"] or "")
    )
    return {
        "directed": True,  # node-link keys: networkx reads a directed multigraph
        "multigraph": True,
        "graph": {"actor": center.slug, "depth": depth},
        "actor": actor_ref(center),
        "depth": depth,
        "nodes": nodes,
        "edges": result_edges,
        "truncated": len(depth_of) > limit,
    }


def _as_groups(found: Groups, nodes: list[dict], edges: list[dict]) -> tuple[list, list]:
    """Nodes and edges with each same-as group as one node under its id (the group's record:
    its name and kind): edges inside a group go, ties between the same groups join."""
    head_of = {
        member[1]: group
        for group, head in set(found.group_of.values())
        for member in found.members[head]
    }
    refs = {
        member[1]: {"id": member[1], "name": member[2], "kind": member[3]}
        for members in found.members.values()
        for member in members
    }
    merged_nodes: dict[str, dict] = {}
    for node in nodes:
        group = head_of.get(node["id"], node["id"])
        shown = refs.get(group, {k: node[k] for k in ("id", "name", "kind")})
        if group not in merged_nodes or node["depth"] < merged_nodes[group]["depth"]:
            merged_nodes[group] = {**shown, "depth": node["depth"]}
    merged_edges: dict[tuple, dict] = {}
    for n, edge in enumerate(edges):
        source = head_of.get(edge["source"], edge["source"])
        target = head_of.get(edge["target"], edge["target"])
        if source == target:
            continue
        if edge["kind"] != "relation" and target < source:
            source, target = target, source
        # a relation stays one edge (each is a statement of its own); ties join
        key = (edge["kind"], source, target, n if edge["kind"] == "relation" else -1)
        kept = merged_edges.setdefault(key, {**edge, "source": source, "target": target})
        if kept is not edge and edge["kind"] != "relation":
            for name in ("events", "statements"):
                kept[name] = sorted(set(kept[name]) | set(edge[name]))[:EVIDENCE_LIMIT]
    ordered = sorted(merged_nodes.values(), key=lambda n: (n["depth"], n["id"]))
    return ordered, list(merged_edges.values())
