"""Flat records: one row of scalar columns per record, for CSV and for GeoJSON properties.

The response schema decides how a record flattens, field by field:
- a reference (a nested schema with an `id`) becomes `{field}_id` and `{field}_name`
  (`location_id`, `location_name`; `subject_id`, `subject_name`);
- a plain nested object spreads into a column per field, named by its schema's `CSV_COLUMNS`
  when it has one (coordinates: `latitude`, `longitude`, `coordinate_precision`, as locations
  name them) or `{field}_{sub}`;
- a list becomes one cell holding a JSON array of its items, each item written by its schema's
  `CSV_CELL`, a format or a function (participants `actor:role`, citations `source: excerpt`)
  or as its id:
  `["Ghaani","Esmail"]` never splits wrongly, and `json.loads` reads it back; a list whose
  schema names a reference in `CSV_IDS` also gets a column of the distinct ids it refers to
  (participants: `actor_ids`), so a GIS or spreadsheet filter needs no parsing of `actor:role`;
- scalars stay as they are (in CSV: `true`/`false`, empty for null).

CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@` after
any leading whitespace or line break, or with a tab or carriage return) get a leading `'`, as
OWASP recommends; numbers are never altered. Rows end in CRLF and a cell holding a CR, a LF,
a comma or a quote is quoted (RFC 4180).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import marshmallow as ma

Cell = Callable[[Any], Any]
Column = tuple[list[str], Cell]
FORMULA_STARTS = ("=", "+", "-", "@")  # after any leading whitespace or line break
LEADING_BLANKS = " \t\r\n\f\v\u00a0\u2028\u2029"
BOM = "\ufeff"


def item_cell(field: ma.fields.Field) -> Cell:
    """How one item of a list is written inside its JSON array."""
    nested = getattr(field, "schema", None) if isinstance(field, ma.fields.Nested) else None
    if nested is None:
        return lambda value: value
    template = getattr(nested, "CSV_CELL", None)
    if callable(template):
        return template
    if template:
        return lambda value: template.format_map(value)
    if "id" in nested.fields:
        return lambda value: value["id"]
    return lambda value: value


def list_cell(field: ma.fields.List) -> Cell:
    item = item_cell(field.inner)
    return lambda values: json.dumps([item(v) for v in values or []], ensure_ascii=False)


def distinct_ids(key: str) -> Cell:
    """The distinct ids of the references under `key` in a list's items, as a JSON array."""
    return lambda values: json.dumps(
        list(dict.fromkeys(item[key]["id"] for item in values or [])), ensure_ascii=False
    )


def label_of(nested: ma.Schema) -> str | None:
    return next((name for name in ("name", "title") if name in nested.fields), None)


def columns(schema: ma.Schema) -> dict[str, Column]:
    """{column: (path into the dumped record, cell writer)}, in the schema's field order."""
    result: dict[str, Column] = {}
    for name, field in schema.fields.items():
        nested = field.schema if isinstance(field, ma.fields.Nested) else None
        if isinstance(field, ma.fields.List):
            result[name] = ([name], list_cell(field))
            ids = getattr(getattr(field.inner, "schema", None), "CSV_IDS", None)
            if ids:
                result[ids[1]] = ([name], distinct_ids(ids[0]))
        elif nested is not None and "id" in nested.fields:
            result[f"{name}_id"] = ([name, "id"], lambda v: v)
            label = label_of(nested)
            if label:
                result[f"{name}_{label}"] = ([name, label], lambda v: v)
        elif nested is not None:
            names = getattr(nested, "CSV_COLUMNS", {})
            for sub in nested.fields:
                result[names.get(sub, f"{name}_{sub}")] = ([name, sub], lambda v: v)
        else:
            result[name] = ([name], lambda v: v)
    return result


def flat_record(record: dict, table: dict[str, Column]) -> dict[str, Any]:
    """A dumped record as {column: scalar}; null where the record has nothing."""
    row = {}
    for column, (path, write) in table.items():
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        row[column] = None if value is None and len(path) > 1 else write(value)
    return row


def text_cell(value: Any) -> str:
    """A CSV cell: booleans as `true`/`false`, null empty, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (
        value.lstrip(LEADING_BLANKS).startswith(FORMULA_STARTS) or value[:1] in ("\t", "\r")
    ):
        return "'" + value
    return str(value)


def to_csv(records: list[dict], schema: ma.Schema, bom: bool = False) -> str:
    """A CSV document of dumped records: a header row, then one row per record."""
    table = columns(schema)
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    # RFC 4180: rows end in CRLF, so a cell holding a CR, a LF or a comma is quoted (with "\n"
    # only, a bare CR went out unquoted and a spreadsheet started a new row at it)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table)
    for record in records:
        writer.writerow(text_cell(v) for v in flat_record(record, table).values())
    return buffer.getvalue()
