"""`/v1/releases`: named, immutable versions of the data. Each is read whole under
`/releases/{name}/v1/...` (api/http/releases.py), diffed against another or now, and downloaded
(a SQLite file, NDJSON.gz per collection)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request, send_file
from flask.views import MethodView

from api.http import release_files
from api.http.auth import principal, require, security
from api.http.base import NO_KEY_DOC, Blueprint, problem_doc
from api.http.errors import abort
from api.http.limits import without_query_budget
from api.http.offload import run_blocking
from api.http.releases import PREFIX
from api.ingest import releases as making
from api.queries import releases
from api.queries.releases import LATEST
from api.store.models import Release
from schemas.releases import DiffArgs, DiffEntrySchema, ReleaseCreateSchema, ReleaseSchema

blp = Blueprint(
    "releases",
    __name__,
    url_prefix="/v1/releases",
    description="Named, immutable versions of the data: read whole under "
    "`/releases/{name}/v1/...` (every read of the API), diffed, downloaded.",
)
NAME = {
    "in": "path",
    "name": "name",
    "example": LATEST,
    "description": "The release's name, or `latest` for the newest.",
}
NOW = "now"
OTHER = {
    "in": "path",
    "name": "other",
    "example": NOW,
    "description": "A newer release's name, `latest`, or `now` (the live data).",
}
FILE_HEADERS = {
    "ETag": {"description": "SHA-256 of the file: never changes.", "schema": {"type": "string"}},
    "Content-Length": {"description": "The bytes sent.", "schema": {"type": "integer"}},
    "Accept-Ranges": {"description": "`bytes`: resume with `Range`.", "schema": {"type": "string"}},
}
LINK_HEADER = {"Link": {"description": 'The next page (rel="next").', "schema": {"type": "string"}}}
MISSING = problem_doc("No release has that name (or no release has been made yet).")
GONE = problem_doc("The release was deleted (when, and by whom).")


def described(release: Release) -> dict[str, Any]:
    """A release as listed, with its URLs: its API's root and its downloads' (their size and
    digest once written)."""
    root = request.url_root.rstrip("/")
    shown = releases.describe(release)
    written = {item["file"]: item for item in shown["downloads"]}
    here = f"{root}/v1/releases/{release.name}/download"
    shown["downloads"] = [
        {
            "file": file,
            "url": here if file == release_files.SQLITE_FILE else f"{here}/{collection}",
            "bytes": written.get(file, {}).get("bytes"),
            "sha256": written.get(file, {}).get("sha256"),
        }
        for file, collection in zip(
            release_files.file_names(), ("", *release_files.COLLECTIONS), strict=True
        )
    ]
    return shown | {"url": f"{root}{PREFIX}{release.name}"}


def fail(error: making.ReleaseProblem) -> None:
    errors = [{"path": f"body.{error.field}", "message": error.detail}]
    if error.status == 404:
        errors = []
    abort(error.status, message=error.detail, errors=errors)


@blp.route("")
class Releases(MethodView):
    @blp.response(200, ReleaseSchema(many=True))
    @blp.doc(
        operationId="listReleases",
        summary="List releases",
        description="Every release not deleted, newest first.",
    )
    def get(self):
        return [described(release) for release in releases.every()]

    @require("admin")
    @blp.arguments(ReleaseCreateSchema, location="json")
    @blp.response(
        201,
        ReleaseSchema,
        description="Made.",
        headers={"Location": {"description": "The release.", "schema": {"type": "string"}}},
    )
    @blp.alt_response(401, **NO_KEY_DOC)
    @blp.alt_response(403, **problem_doc("The key lacks the `admin` scope."))
    @blp.alt_response(409, **problem_doc("A release has (or had) that name."))
    @blp.alt_response(422, **problem_doc("The name is not a release name."))
    @blp.doc(
        operationId="createRelease",
        summary="Make a release",
        description="Names the data as it stands now: a snapshot of every collection, the "
        "change feed's `seq` it stands at (its downloads are written when first asked "
        "for). It never changes. Takes time in proportion to the data (README). Needs an "
        "`admin` key.",
        **security("admin"),
    )
    def post(self, body: dict):
        try:
            release = run_blocking(_make, body, principal().key, database=True)
        except making.ReleaseProblem as error:
            fail(error)
        location = f"{request.base_url}/{release.name}"
        return described(release), 201, {"Location": location}


def _make(body: dict, key: str) -> Release:
    """The snapshot only: the downloads are written when first asked for."""
    with without_query_budget():
        return making.create(body["name"], body.get("description"), key)


@blp.route("/<string:name>", parameters=[NAME])
class OneRelease(MethodView):
    @blp.response(200, ReleaseSchema)
    @blp.alt_response(404, **MISSING)
    @blp.alt_response(410, **GONE)
    @blp.doc(
        operationId="getRelease",
        summary="Get a release",
        description="One release, or the newest (`latest`).",
    )
    def get(self, name: str):
        return described(releases.find(name))

    @require("admin")
    @blp.response(204, description="Deleted.")
    @blp.alt_response(401, **NO_KEY_DOC)
    @blp.alt_response(403, **problem_doc("The key lacks the `admin` scope."))
    @blp.alt_response(404, **MISSING)
    @blp.alt_response(409, **problem_doc("It is the latest release."))
    @blp.doc(
        operationId="deleteRelease",
        summary="Delete a release",
        description="Deletes an older release: its snapshot and files go; its name stays "
        "taken, and `GET` says when and by which key it was deleted (410). The latest "
        "release cannot be deleted. Needs an `admin` key.",
        **security("admin"),
    )
    def delete(self, name: str):
        try:
            making.delete(name, principal().key)
        except making.ReleaseProblem as error:
            fail(error)
        return Response(status=204)


@blp.route("/<string:name>/diff/<string:other>", parameters=[NAME, OTHER])
class Diff(MethodView):
    @blp.arguments(DiffArgs, location="query", as_kwargs=False)
    @blp.response(200, DiffEntrySchema(many=True), headers=LINK_HEADER)
    @blp.alt_response(404, **MISSING)
    @blp.alt_response(410, **GONE)
    @blp.alt_response(422, **problem_doc("`other` is older than `name`."))
    @blp.doc(
        operationId="getReleaseDiff",
        responses={
            "200": {
                "description": "One page of entries (JSON), or every entry (NDJSON).",
                "headers": LINK_HEADER,
                "content": {
                    "application/json": {"schema": DiffEntrySchema(many=True)},
                    "application/x-ndjson": {
                        "schema": {
                            "type": "string",
                            "description": "One entry per line (`format=ndjson`): every entry, "
                            "streamed without paging.",
                        }
                    },
                },
            }
        },
        summary="Diff two releases",
        description="Every record added, changed (with the fields that changed) or removed "
        "between release `name` and a newer one (or `now`), each record once, from the "
        "change journal (exact): `before` and `after` in the bundle format, so that applying "
        "the entries to the older release's records gives the newer's. Ordered by each "
        "record's last change; paged (`Link`), or every entry as NDJSON (`format=ndjson`). A "
        "record changed and changed back is not listed.",
    )
    def get(self, args: dict, name: str, other: str):
        since = releases.find(name).seq
        until = releases.current_seq() if other == NOW else releases.find(other).seq
        if until < since:
            abort(
                422,
                message=f"{other!r} is older than {name!r}: diff from the older.",
                errors=[{"path": "path.other", "message": "Older than `name`."}],
            )
        if args["format"] == "ndjson":
            lines = _every_entry(since, until)
            return Response(lines, 200, mimetype="application/x-ndjson")
        entries, cursor = releases.diff_page(since, until, args["cursor"], args["limit"])
        headers = {}
        if cursor is not None:
            query = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": cursor}
            headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
        return entries, 200, headers


def _every_entry(since: int, until: int) -> Iterator[str]:
    schema = DiffEntrySchema()
    cursor: int | None = 0
    while cursor is not None:
        entries, cursor = releases.diff_page(since, until, cursor, 1000)
        yield "".join(json.dumps(schema.dump(e), ensure_ascii=False) + "\n" for e in entries)


@blp.route("/<string:name>/download", parameters=[NAME])
class Download(MethodView):
    @blp.response(
        200,
        content_type=release_files.SQLITE_TYPE,
        description="The release as one SQLite file (README: its tables and columns).",
        headers=FILE_HEADERS,
    )
    @blp.alt_response(404, **MISSING)
    @blp.alt_response(410, **GONE)
    @blp.doc(
        operationId="downloadRelease",
        summary="Download a release (SQLite)",
        description="The whole release as a SQLite database (opens in sqlite3, Datasette, "
        "pandas): its tables as the service stores them (records, their parts and "
        "citations; README: each table), and a `release` table of one row. Written on its "
        "first request (or by `briefing release create`). `Range` resumes a broken download; "
        "the ETag never changes.",
    )
    def get(self, name: str):
        return _send(releases.find(name), release_files.SQLITE_FILE)


COLLECTION = {
    "in": "path",
    "name": "collection",
    "example": "events",
    "description": "A collection.",
    "schema": {"type": "string", "enum": list(release_files.COLLECTIONS)},
}


@blp.route("/<string:name>/download/<string:collection>", parameters=[NAME, COLLECTION])
class DownloadCollection(MethodView):
    @blp.response(
        200,
        content_type=release_files.GZIP_TYPE,
        description="The collection's NDJSON export, gzipped.",
        headers=FILE_HEADERS,
    )
    @blp.alt_response(404, **MISSING)
    @blp.alt_response(410, **GONE)
    @blp.doc(
        operationId="downloadReleaseCollection",
        summary="Download a collection of a release (NDJSON.gz)",
        description="Every record of one collection, one JSON record per line as "
        "`format=ndjson` writes it, gzipped. `Range` resumes; the ETag never changes.",
    )
    def get(self, name: str, collection: str):
        if collection not in release_files.COLLECTIONS:
            abort(404, message=f"No collection is named {collection!r}.")
        return _send(releases.find(name), release_files.ndjson_file(collection))


def _send(release: Release, file: str) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    path, digest = run_blocking(release_files.located, release, file, app)
    sqlite = file == release_files.SQLITE_FILE
    return send_file(
        path,
        mimetype=release_files.SQLITE_TYPE if sqlite else release_files.GZIP_TYPE,
        as_attachment=True,
        download_name=f"{release.name}-{file}",
        conditional=True,
        etag=digest,
        max_age=31_536_000,
    )
