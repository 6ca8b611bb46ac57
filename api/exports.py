"""Full exports: NDJSON streams every matching record of a list, without paging, in constant
memory (keyset batches of 500, each loaded and written before the next is read)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import marshmallow as ma
from flask import Response, stream_with_context

from api.queries.collection import Collection, list_page

BATCH = 500


def ndjson_lines(
    collection: Collection, args: dict, schema: ma.Schema, first: tuple[list, object]
) -> Iterator[str]:
    records, page = first
    while True:
        for record in schema.dump(records, many=True):
            yield json.dumps(record, ensure_ascii=False) + "\n"
        if not page.next_cursor:
            return
        records, page = list_page(collection, {**args, "cursor": page.next_cursor})


def ndjson_response(
    collection: Collection, args: dict, schema: ma.Schema, disposition: str
) -> Response:
    """`application/x-ndjson`: one JSON record per line, every matching record, streamed."""
    args = {**args, "limit": BATCH, "cursor": None}
    first = list_page(collection, args)
    headers = {"X-Total-Count": str(first[1].total), "Content-Disposition": disposition}
    lines = stream_with_context(ndjson_lines(collection, args, schema, first))
    return Response(lines, 200, headers, mimetype="application/x-ndjson")
