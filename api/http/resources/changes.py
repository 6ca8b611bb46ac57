"""`/v1/changes` (public): what changed, in order, deletions as tombstones; `/v1/audit`
(admin): who changed what, with each record before and after."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request
from flask.views import MethodView

from api.http.auth import require, security
from api.http.base import Blueprint, problem_doc
from api.queries.changes import audit_entry, feed_entry, journal_page
from schemas.writes import AuditArgs, AuditEntrySchema, ChangeSchema, FeedArgs

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/v1",
    description="The change feed and the audit trail: every create, update and delete of a "
    "record, by an import or a record write.",
)
PAGING_HEADERS = {
    "Link": {"description": 'RFC 8288: the next page (rel="next").', "schema": {"type": "string"}},
    "X-Total-Count": {
        "description": "Changes after `since` that match.",
        "schema": {"type": "integer"},
    },
}


def page(args: dict, entry) -> tuple[list[dict], int, dict]:
    """One page of the journal, with `Link` to the next and `X-Total-Count`."""
    rows, more, total = journal_page(args)
    headers = {"X-Total-Count": str(total)}
    if more:
        query = {k: v for k, v in request.args.items() if k != "since"}
        query["since"] = str(rows[-1].id)
        headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    return [entry(row) for row in rows], 200, headers


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(FeedArgs(), location="query", as_kwargs=False)
    @blp.response(200, ChangeSchema(many=True), headers=PAGING_HEADERS)
    @blp.doc(
        summary="List changes",
        description="Every change of an actor, relation, location, event or statement, in "
        "commit order: `seq` grows, so `since=<last seq seen>` returns what is new (follow "
        "`Link` for the next page). Deletions stay as tombstones (`op: delete`). Replaying "
        "the feed from `since=0` (GET each record created or updated, drop each deleted) "
        "reproduces the current records.",
    )
    def get(self, args: dict):
        return page(args, feed_entry)


@blp.route("/audit")
class Audit(MethodView):
    @require("admin")
    @blp.arguments(AuditArgs(), location="query", as_kwargs=False)
    @blp.response(200, AuditEntrySchema(many=True), headers=PAGING_HEADERS)
    @blp.alt_response(401, **problem_doc("No valid API key (see WWW-Authenticate)."))
    @blp.alt_response(403, **problem_doc("The key lacks the `admin` scope."))
    @blp.doc(
        summary="List audit entries",
        description="Who changed what: each change with the key that made it (`cli` for the "
        "command line), and the record before and after (bundle format, with citations). "
        "Filter by `key`, `record_type`, `record` and time. Needs an `admin` key.",
        **security("admin"),
    )
    def get(self, args: dict):
        return page(args, audit_entry)
