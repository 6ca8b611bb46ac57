"""The one error shape: RFC 9457 `application/problem+json`, for every 4xx and 5xx.

`Api` (api/http/base.py) routes every error here: HTTP exceptions (abort, routing, webargs' 422),
the query layer's domain errors, and anything unexpected (logged, answered without a trace).
"""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus
from typing import Any, NoReturn

import peewee as pw
import psycopg2
from flask import Response, current_app, json, request
from flask_smorest import abort
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException, InternalServerError

from api.ingest import SeedError
from api.queries.errors import InvalidParameter, NotFound, QueryError

PROBLEM_JSON = "application/problem+json"
# the drivers' own, and the pool's when every connection stayed busy for its wait
OPERATIONAL_ERRORS = (sqlite3.OperationalError, psycopg2.OperationalError, MaxConnectionsExceeded)
log = logging.getLogger(__name__)


def problem(
    status: int,
    detail: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response: type, title, status, detail, instance and optional errors."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def messages(value: Any) -> list[str]:
    """A field's messages as a flat list: the items of a list parameter (`{0: [...]}`)
    and nested fields merge into their parameter's messages."""
    if isinstance(value, dict):
        return list(dict.fromkeys(m for v in value.values() for m in messages(v)))
    if isinstance(value, list | tuple):
        return list(dict.fromkeys(m for v in value for m in messages(v)))
    return [str(value)]


def by_parameter(errors: dict[str, Any]) -> dict[str, Any]:
    """webargs' {location: {field: ...}} with every field's messages flattened."""
    return {
        location: {str(k): messages(v) for k, v in fields.items()}
        if isinstance(fields, dict)
        else fields
        for location, fields in errors.items()
    }


def describe(errors: dict[str, Any]) -> str:
    """One readable sentence from webargs' {location: {field: [messages]}} errors."""
    errors = by_parameter(errors)
    parts = []
    for location, fields in errors.items():
        if not isinstance(fields, dict):
            parts.append(f"{location}: {fields}")
            continue
        for field, texts in fields.items():
            text = " ".join(texts).rstrip(".")
            parts.append(f"{location} parameter {field!r}: {text}")
    return "Invalid request. " + "; ".join(parts) + "."


def http_problem(error: HTTPException) -> Response:
    """Any HTTPException (abort, 404, 405, webargs' 422) as a problem."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    errors = by_parameter(errors) if isinstance(errors, dict) else errors
    detail = data.get("message") or (describe(errors) if errors else error.description)
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(error.code or 500, detail, errors, headers)


DATABASE_UNAVAILABLE = (
    "The database is unavailable right now, so the request was not processed. "
    "Retry after the number of seconds in Retry-After."
)
QUERY_TOO_COSTLY = (
    "The request exceeded the database time budget of one request and was stopped. Retry "
    "later, or make it cheaper: fewer or longer words in q, more filters, a smaller limit."
)


def retry_after() -> dict[str, str]:
    return {"Retry-After": str(current_app.config.get("RETRY_AFTER_SECONDS", 5))}


def unavailable(detail: str = DATABASE_UNAVAILABLE) -> Response:
    """A 503 that says what the client can do, with Retry-After; never the cause."""
    return problem(503, detail, headers=retry_after())


def is_timeout(error: BaseException) -> bool:
    """True for a query stopped by its budget (PostgreSQL statement_timeout, SQLite's progress
    handler), as opposed to a lost connection."""
    text = str(error).lower()
    return "statement timeout" in text or text.strip() == "interrupted"


def database_problem(error: Exception) -> Response:
    """A database that cannot be reached, or a query over its budget: a 503 with Retry-After.
    The driver's message (hosts, ports, paths) goes to the log only. Anything else from the
    database (a corrupt file, a bug) is an unexpected 500."""
    if isinstance(error, (pw.OperationalError, pw.InterfaceError, *OPERATIONAL_ERRORS)):
        if is_timeout(error):
            log.warning("Query budget exceeded on %s %s: %s", request.method, request.path, error)
            return unavailable(QUERY_TOO_COSTLY)
        log.error("Database unavailable on %s %s: %s", request.method, request.path, error)
        return unavailable()
    return unexpected_problem(error)


def domain_problem(error: QueryError) -> Response:
    """A domain error of the query layer as a problem: 404 or 422 naming the parameter."""
    if isinstance(error, NotFound):
        return problem(404, error.detail)
    if isinstance(error, InvalidParameter):
        return problem(422, error.detail, {"query": {error.parameter: error.messages}})
    return problem(400, error.detail)


def unexpected_problem(error: Exception) -> Response:
    """An unhandled exception: logged with its trace, answered without one."""
    if isinstance(error, HTTPException):
        return http_problem(error)
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return problem(500, InternalServerError.description)


def refused(error: SeedError, what: str = "The bundle was refused") -> NoReturn:
    """422 listing every problem of the bundle (or record); nothing was written."""
    abort(
        422,
        message=f"{what} ({len(error.items)} problem(s)); nothing was written.",
        errors=[problem.as_dict() for problem in error.items],
    )
