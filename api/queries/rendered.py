"""Records kept rendered as JSON: a JSON page of events reads each record's JSON
from `event_json` and joins them, instead of building every record from five queries and
writing it again (two thirds of a computed page).

- A writer renders what it made stale before its transaction ends (`refresh`): the triggers of
  api/store/ddl.py `STALE_EVENTS` null the body of every event whose record shows a row that
  changed,
  whoever wrote it, so a stored body is never older than the rows it shows.
- A reader takes a body only where there is one (`json_of`): a record whose body is stale or
  missing (a write that did not refresh, more stale bodies than one write renders) is rendered
  on the spot, as before.
- A body is exactly what the page would write for the record (schemas/fastdump.py
  `record_json`): tests/test_rendered.py compares every stored body with a fresh rendering
  after each kind of write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import peewee as pw

from api.queries.loading import Row, model_columns, prepared, typed_rows
from api.store.db import database
from schemas.fastdump import record_json

# Records rendered per query: one batch of the loaders (api/queries/loading.py PREPARED_AT_MOST).
BATCH = 1_000
# A write renders at most this many stale bodies, so that it holds the write lock briefly and
# stays within the request's query budget (a write to a hub actor stales every event of it);
# the rest stay stale, rendered by readers meanwhile and by the next writes.
_REFRESH_AT_MOST = 5_000


# database -> {table: whether it exists}; weak: a database bound later never reads another's
_kept: WeakKeyDictionary = WeakKeyDictionary()
_one_sql: dict[tuple, str] = {}  # (table, backend, kept): the SQL of `one`


@dataclass(frozen=True)
class Rendered:
    """The JSON of one collection's records, kept in `table` (`<record>` primary key, `body`
    NULL while stale) and built by `load` from rows of `model`."""

    model: type[pw.Model]
    table: type[pw.Model]
    load: Callable[[list[Row]], list[dict]]

    def json_of(self, rows: list[Row]) -> list[str]:
        """The JSON of the record of each row (only its id is read), in order: stored, or
        rendered when stale (all of them, in a database served read-only that was made before
        records were kept so)."""
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        if not self.kept():
            built = self.render(ids)
            return [built[record_id] for record_id in ids if record_id in built]
        record, body = self.table._meta.primary_key, self.table.body
        name = f"json_of:{self.table._meta.table_name}"
        bodies = lambda ids: self.table.select(record, body).where(record.in_(ids)).tuples()  # noqa: E731
        stored = dict(prepared(name, bodies, ids))
        stale = [record_id for record_id in ids if stored.get(record_id) is None]
        if stale:
            stored.update(self.render(stale))
        return [stored[record_id] for record_id in ids if record_id in stored]

    def kept(self) -> bool:
        """Whether the bound database has the table (asked once per database)."""
        tables = _kept.setdefault(database.obj, {})
        found = tables.get(self.table)
        if found is None:
            found = tables[self.table] = database.table_exists(self.table._meta.table_name)
        return found

    def one(self, slug: str) -> tuple[int, str] | None:
        """(version, JSON) of the record of this public id, stored or rendered when stale;
        None when there is none."""
        model, kept = self.model, self.kept()

        def build(slugs: list[str]) -> pw.SelectQuery:
            if not kept:
                return model.select(model.id, model.version, pw.SQL("NULL")).where(
                    model.slug.in_(slugs)
                )
            on = self.table._meta.primary_key == model.id
            return (
                model.select(model.id, model.version, self.table.body)
                .join(self.table, pw.JOIN.LEFT_OUTER, on=on)
                .where(model.slug.in_(slugs))
            )

        key = (self.table, type(database.obj), kept)
        sql = _one_sql.get(key)
        if sql is None:  # compiled once: the slug is its only parameter
            sql, params = build(["?"]).sql()
            if params != ["?"]:
                raise ValueError(f"{self.table._meta.table_name}: one parameter expected")
            _one_sql[key] = sql
        found = database.execute_sql(sql, [slug]).fetchone()
        if found is None:
            return None
        record_id, version, body = found
        if body is None:
            body = self.render([record_id]).get(record_id)
        return None if body is None else (version, body)

    def render(self, ids: list[int]) -> dict[int, str]:
        """{id: JSON} of the records of these ids (those that exist), built from their rows."""
        fields, names = model_columns(self.model)
        cursor = prepared(
            f"render:{self.table._meta.table_name}",
            lambda ids: self.model.select(*fields).where(self.model.id.in_(ids)).tuples(),
            ids,
        )
        rows = list(typed_rows(cursor, fields, names))
        built = self.load(rows) if rows else []
        return {row["id"]: record_json(record) for row, record in zip(rows, built, strict=True)}

    def store(self, bodies: dict[int, str]) -> None:
        """Write rendered bodies over what their records had (in the caller's transaction)."""
        if not bodies:
            return
        # the SQL written here: peewee builds a statement of 1,000 ids slowly
        param = database.param
        table, column = self.table._meta.table_name, self.table._meta.primary_key.column_name
        ids = ", ".join([param] * len(bodies))
        database.execute_sql(f'DELETE FROM "{table}" WHERE "{column}" IN ({ids})', list(bodies))
        values = ", ".join([f"({param}, {param})"] * len(bodies))
        sql = f'INSERT INTO "{table}" ("{column}", "body") VALUES {values}'
        database.execute_sql(sql, [value for pair in bodies.items() for value in pair])

    def refresh(self, at_most: int | None = _REFRESH_AT_MOST) -> int:
        """Render the stale bodies again (at most `at_most`; None: all), in the caller's
        transaction; how many. Called last in every write, under the write lock."""
        record = self.table._meta.primary_key
        stale = self.table.select(record).where(self.table.body.is_null()).order_by(record)
        done = 0
        while at_most is None or done < at_most:
            size = BATCH if at_most is None else min(BATCH, at_most - done)
            ids = [record_id for (record_id,) in stale.limit(size).tuples()]
            if not ids:
                break
            bodies = self.render(ids)
            gone = [record_id for record_id in ids if record_id not in bodies]
            if gone:  # no such record any more (its row should have gone with it)
                self.table.delete().where(record.in_(gone)).execute()
            self.store(bodies)
            done += len(ids)
        return done

    def fill(self, after: int = 0) -> int:
        """Render every record whose id is above `after`, whatever it had (a bulk load that
        wrote without the triggers; a migration), in the caller's transaction; how many."""
        record = self.table._meta.primary_key
        self.table.delete().where(record > after).execute()
        done = 0
        while True:
            query = self.model.select(self.model.id).where(self.model.id > after)
            query = query.order_by(self.model.id).limit(BATCH).tuples()
            ids = [record_id for (record_id,) in query]
            if not ids:
                return done
            self.store(self.render(ids))
            done, after = done + len(ids), ids[-1]
