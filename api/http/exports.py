"""Full exports: NDJSON streams every matching record of a list, without paging, in constant
memory (keyset batches of 500, each loaded and written before the next is read); GraphML
writes the actor network for graph tools."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Response, current_app, stream_with_context

from api.queries.collection import Collection
from api.queries.list_query import ListQuery
from api.queries.listing import list_page
from api.queries.paging import Page
from schemas.fastdump import Written
from schemas.records import citation_cell

BATCH = 500


def ndjson_lines(
    collection: Collection,
    asked: ListQuery,
    schema: ma.Schema,
    first: tuple[list, Page],
    as_json: bool,
) -> Iterator[str]:
    records, page = first
    while True:
        if type(records) is Written:  # kept rendered (api/queries/rendered.py)
            yield "".join(f"{record}\n" for record in records)
        else:
            dumped = schema.dump(records, many=True)  # written as the JSON lists write them
            yield "".join(f"{current_app.json.dumps(record)}\n" for record in dumped)
        if not page.next_cursor:
            return
        # the total went out with the first batch: later batches count nothing
        records, page = list_page(collection, asked.at(page.next_cursor), 0, as_json)


def ndjson_response(
    collection: Collection, asked: ListQuery, schema: ma.Schema, disposition: str, as_json: bool
) -> Response:
    """`application/x-ndjson`: one JSON record per line (as compact as the JSON lists), every
    matching record, streamed; records kept rendered as they are (`as_json`: not narrowed by
    `fields`)."""
    asked = asked.at(None, BATCH)
    first = list_page(collection, asked, None, as_json)
    headers = {"X-Total-Count": str(first[1].total), "Content-Disposition": disposition}
    lines = stream_with_context(ndjson_lines(collection, asked, schema, first, as_json))
    return Response(lines, 200, headers, mimetype="application/x-ndjson")


GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
NODE_ATTRIBUTES = {"name": "string", "kind": "string", "depth": "int"}
EDGE_ATTRIBUTES = {
    "kind": "string",
    "predicate": "string",
    "events": "string",
    "statements": "string",
    "citations": "string",
}


def graphml_value(name: str, value: Any) -> str:
    """Scalars as they are; lists as JSON-array text (citations as `source: excerpt`)."""
    if name == "citations":
        value = [citation_cell(c) for c in value]
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_graphml(network: dict) -> str:
    """The network as GraphML: a directed graph, the edges' evidence as attributes."""
    root = ET.Element("graphml", xmlns=GRAPHML_NS)
    for domain, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name, kind in attributes.items():
            ET.SubElement(
                root,
                "key",
                {"id": f"{domain}_{name}", "for": domain, "attr.name": name, "attr.type": kind},
            )
    graph = ET.SubElement(root, "graph", id=network["actor"]["id"], edgedefault="directed")
    for node in network["nodes"]:
        element = ET.SubElement(graph, "node", id=node["id"])
        for name in NODE_ATTRIBUTES:
            ET.SubElement(element, "data", key=f"node_{name}").text = str(node[name])
    for number, edge in enumerate(network["edges"]):
        element = ET.SubElement(
            graph, "edge", id=f"e{number}", source=edge["source"], target=edge["target"]
        )
        for name in EDGE_ATTRIBUTES:
            if edge.get(name) is not None:
                data = ET.SubElement(element, "data", key=f"edge_{name}")
                data.text = graphml_value(name, edge[name])
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
