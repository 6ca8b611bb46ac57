"""The list + detail endpoints every collection has, built the same way for each."""

from __future__ import annotations

from typing import cast

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.http import stix_export
from api.http.base import Blueprint, problem_doc
from api.http.formats import PREFER_PARAMETER, list_docs, list_response, negotiate
from api.http.resources.writes import add_writes
from api.queries.collection import Collection, get_record
from api.records import named
from schemas.fastdump import WrittenRecord
from schemas.stix import RecordFormatArgs


def collection_blueprint(
    collection: Collection,
    args_schema: type[ma.Schema],
    description: str,
    list_summary: str,
    list_description: str,
    collection_example: str,
) -> Blueprint:
    """A blueprint serving `GET /v1/<name>` (filtered, paged list) and `GET /v1/<name>/{id}`,
    and the writes of a writable record type; name and schemas come from the registry."""
    kind = named(collection.name)
    name, schema = kind.collection, kind.response_schema
    blp = Blueprint(name, __name__, url_prefix=kind.path, description=description)
    format_choices = cast(ma.validate.OneOf, args_schema().fields["format"].validate)
    formats = tuple(format_choices.choices)
    singular = collection.name
    record_schema = schema()  # one instance: building one deep-copies every field
    list_args = args_schema()  # likewise for the query string (a class is built per request)
    record_args = RecordFormatArgs()

    @blp.route("", parameters=[PREFER_PARAMETER])
    class ListView(MethodView):
        @blp.arguments(list_args, location="query", as_kwargs=False)
        @blp.response(200, schema(many=True))
        @blp.doc(
            summary=list_summary,
            description=list_description,
            **list_docs(schema(many=True), formats),
        )
        def get(self, args: dict):
            return list_response(collection, args, record_schema, formats)

    record_id_doc = {
        "in": "path",
        "name": "record_id",
        "example": collection_example,
        "description": f"Public id of the {singular}.",
    }

    @blp.route("/<string:record_id>", parameters=[record_id_doc])
    class DetailView(MethodView):
        @blp.arguments(record_args, location="query", as_kwargs=False)
        @blp.response(200, schema)
        @blp.alt_response(404, **problem_doc(f"No {singular} has that id."))
        @blp.doc(
            summary=f"Get one {singular}",
            description=f"One {singular} by its public id, with everything a reader needs "
            "embedded (references as `{id, name}`) and the citations that support it; "
            "`format=stix`: its STIX 2.1 object in a bundle.",
            responses={
                "200": {
                    "description": f"The {singular}, or its STIX bundle.",
                    "content": {
                        "application/json": {"schema": record_schema},
                        stix_export.STIX_MEDIA_TYPE: {"schema": stix_export.BUNDLE_SCHEMA},
                    },
                }
            },
        )
        def get(self, args: dict, record_id: str):
            if negotiate(args.get("format"), ("json", "stix")) == "stix":
                found = get_record(collection, record_id)
                g.record_version = found.get("version")
                return stix_export.record_bundle_response(collection.name, found)
            record = get_record(collection, record_id, as_json=True)
            # the ETag derives from its version
            if isinstance(record, WrittenRecord):
                g.record_version = record.version
            else:
                g.record_version = record.get("version")
            return record

    if kind.write_schema is not None:  # POST, PATCH, DELETE (api/http/resources/writes.py)
        add_writes(blp, name, collection, schema, kind.write_schema, record_id_doc)
    ListView.__name__ = f"{name.title()}List"
    DetailView.__name__ = f"{name.title()}Detail"
    return blp
