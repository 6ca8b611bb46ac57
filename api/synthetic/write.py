"""Writes the stream of `generate.corpus` into the models: chunked insert_many, both backends.

Each table has a buffer of at most one chunk. A full buffer is inserted; before that, the
slugs in its reference columns become ids, flushing the buffers they point into first (so a
row always follows the rows it refers to); the insert returns the new rows' (slug, id).
Memory stays one chunk per table plus the slug -> id maps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import peewee as pw
from tqdm import tqdm

from api.db import is_postgres
from api.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventParticipant,
    Location,
    LocationAlias,
    Relation,
    SearchDocument,
    Source,
    Statement,
    StatementAddressee,
    StatementEvent,
    StatementMention,
    StatementSpeaker,
)
from api.synthetic.generate import COLUMNS, Row
from api.synthetic.world import PREFIX

CORPUS_TIME = dt.datetime(2025, 1, 1)  # `updated_at` of every synthetic record

SQLITE_MAX_VARIABLES = 32_000  # SQLite >= 3.32 allows 32,766 bound parameters per statement
MAX_BATCH_ROWS = 1_000

MODELS: dict[str, type[pw.Model]] = {
    model._meta.table_name: model
    for model in (
        Source,
        Location,
        LocationAlias,
        Actor,
        ActorAlias,
        Relation,
        Event,
        EventParticipant,
        Statement,
        StatementSpeaker,
        StatementAddressee,
        StatementMention,
        StatementEvent,
        Citation,
        SearchDocument,
    )
}
RECORD = "record_type"  # the reference column names its table in the row's `record_type`
# table -> {reference column: the table its slug names}
REFERENCES: dict[str, dict[str, str]] = {
    "location": {"parent": "location"},
    "location_alias": {"location": "location"},
    "actor_alias": {"actor": "actor"},
    "relation": {"subject": "actor", "object": "actor"},
    "event": {"location": "location"},
    "event_participant": {"event": "event", "actor": "actor"},
    "statement": {"outlet": "actor"},
    "statement_speaker": {"statement": "statement", "actor": "actor"},
    "statement_addressee": {"statement": "statement", "actor": "actor"},
    "statement_mention": {"statement": "statement", "actor": "actor"},
    "statement_event": {"statement": "statement", "event": "event"},
    "citation": {"record_id": RECORD, "source": "source"},
    "search_document": {"record_id": RECORD},
}


def synthetic(model: type[pw.Model]) -> pw.Expression:
    """Rows whose slug starts with `syn-`, as a range the slug's unique index can serve."""
    return (model.slug >= PREFIX) & (model.slug < PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1))


class Writer:
    """Buffers rows per table and inserts them in chunks, with one progress bar."""

    def __init__(self, estimate: int, progress: bool) -> None:
        self.bar = tqdm(
            total=estimate,
            unit="row",
            unit_scale=True,
            disable=not progress,
            desc="synthetic",
            dynamic_ncols=True,
        )
        self.postgres = is_postgres()
        self.buffers: dict[str, list[Row]] = {table: [] for table in COLUMNS}
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.ids: dict[str, dict[str, int]] = {
            table: {} for table in MODELS if "slug" in COLUMNS[table]
        }
        # per table: (column index, target table or None when named by `record_type`)
        self.references = {
            table: [
                (COLUMNS[table].index(column), None if target == RECORD else target)
                for column, target in references.items()
            ]
            for table, references in REFERENCES.items()
        }

    def chunk_size(self, table: str) -> int:
        if self.postgres:
            return MAX_BATCH_ROWS
        return min(MAX_BATCH_ROWS, SQLITE_MAX_VARIABLES // len(COLUMNS[table]))

    def write(self, rows: Iterable[tuple[str, Row]]) -> dict[str, int]:
        """Insert every (table, row) of `rows`; rows written per table."""
        sizes = {table: self.chunk_size(table) for table in COLUMNS}
        for table, row in rows:
            buffer = self.buffers[table]
            buffer.append(row)
            if len(buffer) >= sizes[table]:
                self.flush(table)
        for table in COLUMNS:
            self.flush(table)
        self.bar.total = self.bar.n
        return self.counts

    def flush(self, table: str) -> None:
        """Insert the buffered rows of `table`, after the rows they refer to."""
        rows = self.buffers[table]
        if not rows:
            return
        self.buffers[table] = []
        targets = {target for _, target in self.references.get(table, ())}
        if None in targets:
            targets |= {row[0] for row in rows}  # record_type is the first column
        for target in targets - {None, table}:
            self.flush(target)
        resolved: list[Row] = []
        for row in rows:
            try:
                resolved.append(self.resolve(table, row))
            except KeyError:  # refers to an earlier row of this chunk: insert those first
                self.insert(table, resolved)
                resolved = [self.resolve(table, row)]
        self.insert(table, resolved)

    def resolve(self, table: str, row: Row) -> Row:
        """The row with the slugs of its reference columns replaced by ids."""
        references = self.references.get(table)
        if not references:
            return row
        values = list(row)
        for index, target in references:
            if values[index] is not None:
                values[index] = self.ids[target or row[0]][values[index]]
        return tuple(values)

    def insert(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        model = MODELS[table]
        self.bar.set_description(table)
        columns = [model._meta.fields[name] for name in COLUMNS[table]]
        if "updated_at" in model._meta.fields:  # versioned records: one fixed time (same corpus)
            columns.append(model.updated_at)
            rows = [(*row, CORPUS_TIME) for row in rows]
        query = model.insert_many(rows, fields=columns)
        if table in self.ids:  # SQLite >= 3.35 and PostgreSQL both return the new ids
            self.ids[table].update(query.returning(model.slug, model.id).tuples().execute())
        else:
            query.execute()
        self.counts[table] += len(rows)
        self.bar.update(len(rows))

    def close(self) -> None:
        self.bar.close()
