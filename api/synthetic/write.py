"""Writes the stream of `generate.corpus` into the models: chunked bulk inserts, both backends.

Each table has a buffer of at most one chunk. A row gets its id when it enters the writer (the
next after the table's largest, so the load needs no RETURNING), and the slugs of its reference
columns become ids at once; a full buffer is inserted after the buffers of the tables it refers
to (foreign keys). Memory stays one chunk per table plus the slug -> id maps, in which rows
numbered in order (`syn-event-0000001`, ...) take no room.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import peewee as pw
from tqdm import tqdm

from api.store.models import (
    TABLES,
)
from api.synthetic.bulk import Sink, max_id, reset_sequence
from api.synthetic.generate import COLUMNS, Row
from api.synthetic.world import PREFIX

CORPUS_TIME = dt.datetime(2025, 1, 1)  # `updated_at` of every synthetic record

CHUNK_ROWS = 5_000  # rows per insert (one executemany or one COPY)

_BY_NAME = {model._meta.table_name: model for model in TABLES}
# The tables a corpus writes, in the order they are written (COLUMNS says which).
WRITTEN_TABLES: dict[str, type[pw.Model]] = {table: _BY_NAME[table] for table in COLUMNS}
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


class Ids:
    """slug -> id of one table's new rows. A row whose slug ends in its own 1-based number
    (`syn-event-0000042` as the 42nd row) is not stored: its id is computed back."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.count = 0
        self.named: dict[str, int] = {}

    def add(self, slug: str) -> int:
        """The id of the next row, which has `slug`."""
        self.count += 1
        if number(slug) != self.count:
            self.named[slug] = self.base + self.count
        return self.base + self.count

    def __getitem__(self, slug: str) -> int:
        found = self.named.get(slug)
        if found is not None:
            return found
        n = number(slug)
        if n is None or n > self.count:
            raise KeyError(slug)
        return self.base + n


def number(slug: str) -> int | None:
    """The number a slug ends in (`syn-event-0000042` -> 42), None when it ends otherwise."""
    tail = slug[slug.rfind("-") + 1 :]
    return int(tail) if tail.isdigit() else None


class CorpusWriter:
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
        self.buffers: dict[str, list[Row]] = {table: [] for table in COLUMNS}
        self.counts: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        # the tables of records (with a slug) get explicit ids
        self.ids: dict[str, Ids] = {
            table: Ids(max_id(WRITTEN_TABLES[table]))
            for table in COLUMNS
            if "slug" in COLUMNS[table]
        }
        # per table: (column index, target table or None when named by `record_type`)
        self.references = {
            table: [
                (COLUMNS[table].index(column), None if target == RECORD else target)
                for column, target in references.items()
            ]
            for table, references in REFERENCES.items()
        }
        self.sinks = {table: self.sink(table) for table in COLUMNS}
        # fixed values of the columns the stream leaves out (defaults; one `updated_at`)
        self.fixed = {table: self.defaults(table) for table in COLUMNS}

    @staticmethod
    def defaults(table: str) -> tuple:
        model = WRITTEN_TABLES[table]
        return tuple(
            CORPUS_TIME if field.name == "updated_at" else default
            for field, default in model._meta.defaults.items()
            if field.name not in COLUMNS[table]
        )

    def sink(self, table: str) -> Sink:
        model = WRITTEN_TABLES[table]
        columns = (["id"] if table in self.ids else []) + list(COLUMNS[table])
        columns += [
            field.name for field in model._meta.defaults if field.name not in COLUMNS[table]
        ]
        return Sink(model, columns)

    def write(self, rows: Iterable[tuple[str, Row]]) -> dict[str, int]:
        """Insert every (table, row) of `rows`; rows written per table."""
        buffers, fixed, references = self.buffers, self.fixed, self.references
        for table, row in rows:
            if table in references:
                row = self.resolve(table, row)
            if table in self.ids:
                row = (self.ids[table].add(row[0]), *row)
            buffer = buffers[table]
            buffer.append(row + fixed[table] if fixed[table] else row)
            if len(buffer) >= CHUNK_ROWS:
                self.flush(table)
        for table in COLUMNS:
            self.flush(table)
        for table in self.ids:
            reset_sequence(WRITTEN_TABLES[table])
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
            self.flush(str(target))
        self.bar.set_description(table, refresh=False)
        self.sinks[table].insert(rows)
        self.counts[table] += len(rows)
        self.bar.update(len(rows))

    def resolve(self, table: str, row: Row) -> Row:
        """The row with the slugs of its reference columns replaced by ids."""
        values = list(row)
        for index, target in self.references[table]:
            if values[index] is not None:
                values[index] = self.ids[target or row[0]][values[index]]
        return tuple(values)

    def close(self) -> None:
        self.bar.close()
