"""`/v1/changes` (public): what changed, in order, deletions as tombstones; `/v1/audit`
(admin): who changed what, with each record before and after."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, current_app, request
from flask.views import MethodView

from api.http import streams
from api.http.auth import require, security
from api.http.base import NO_KEY_DOC, Blueprint, problem_doc
from api.http.errors import abort
from api.http.limits import client_address
from api.queries.changes import audit_entry, feed_entry, journal_page
from schemas.push import StreamArgs
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


LAST_EVENT_ID = {
    "in": "header",
    "name": "Last-Event-ID",
    "required": False,
    "schema": {"type": "string", "pattern": "^([0-9]{1,18})?$", "example": "42"},
    "description": "The `seq` of the last change received: the stream resumes after it (sent "
    "by an EventSource when it reconnects; wins over `after`; empty: as if not sent).",
}


def last_event_id() -> int | None:
    """The `Last-Event-ID` header as a seq (422 when it is not one)."""
    header = request.headers.get("Last-Event-ID")
    if header is None or header.strip() == "":
        return None
    if not header.strip().isdigit() or len(header.strip()) > 18:
        abort(
            422,
            message="Last-Event-ID is not a seq of the change feed.",
            errors=[{"path": "header.Last-Event-ID", "message": "Not a seq (digits)."}],
        )
    return int(header)


@blp.route("/changes/stream")
class ChangeStream(MethodView):
    @blp.arguments(StreamArgs(), location="query", as_kwargs=False)
    @blp.response(
        200,
        content_type="text/event-stream",
        example='id: 42\ndata: {"seq": 42, "op": "update", ...}\n\n',
        description="Server-Sent Events: one per change (`id` its seq, `data` its entry as "
        "/v1/changes lists it), comments as heartbeats.",
    )
    @blp.alt_response(429, **problem_doc("This client has too many streams open."))
    @blp.doc(
        summary="Stream changes",
        operationId="streamChanges",
        description="The change feed, live, as Server-Sent Events: each change as it is "
        "committed, with the feed's filters (a filtered stream also gets the tombstones of "
        "the records it would have shown). Resume with `Last-Event-ID` (an EventSource sends "
        "it when it reconnects) or `after=<seq>` from any point of the feed: no gap, no "
        "duplicate. Without either, the stream starts with the next change. Idle streams "
        "get a comment line as a heartbeat; a stream ends after `STREAM_MAX_SECONDS` and the "
        "client reconnects. At most `STREAMS_PER_CLIENT` open streams per client.",
        parameters=[LAST_EVENT_ID],
    )
    def get(self, args: dict):
        resume = last_event_id()
        after = resume if resume is not None else args.pop("after", None)
        args.pop("after", None)
        config = streams.settings(current_app.config, current_app.testing)
        client = client_address()
        if not streams.LIMIT.take(client, config["STREAMS_PER_CLIENT"]):
            abort(
                429,
                message=f"At most {config['STREAMS_PER_CLIENT']:g} open streams per client; "
                "close one first.",
                headers={"Retry-After": str(current_app.config["RETRY_AFTER_SECONDS"])},
            )
        body = streams.ChangeStream(after, args, client, config)
        response = Response(body, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"  # proxies: pass each event on at once
        return response


@blp.route("/audit")
class Audit(MethodView):
    @require("admin")
    @blp.arguments(AuditArgs(), location="query", as_kwargs=False)
    @blp.response(200, AuditEntrySchema(many=True), headers=PAGING_HEADERS)
    @blp.alt_response(401, **NO_KEY_DOC)
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
