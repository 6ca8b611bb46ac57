"""The one error shape: RFC 9457 `application/problem+json`, for every 4xx and 5xx.

`Api` (api/http/base.py) routes every error here: HTTP exceptions (abort, routing, webargs' 422),
the query layer's domain errors, and anything unexpected (logged, answered without a trace).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NoReturn, cast

import peewee as pw
import psycopg2
from flask import Response, current_app, json, request
from flask_smorest import abort as _smorest_abort
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from api.ingest import Forbidden, SeedError
from api.queries.errors import Gone, InvalidParameter, NotFound, QueryError

PROBLEM_JSON = "application/problem+json"
# The TAXII 2.1 server (api/http/resources/taxii.py) answers errors in TAXII's own shape
TAXII_PREFIX = "/taxii2/"
TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
# the drivers' own, and the pool's when every connection stayed busy for its wait
OPERATIONAL_ERRORS = (sqlite3.OperationalError, psycopg2.OperationalError, MaxConnectionsExceeded)
log = logging.getLogger(__name__)

# flask-smorest's abort (it raises the HTTPException that becomes a problem), typed as raising
abort = cast(Callable[..., NoReturn], _smorest_abort)


def problem(
    status: int,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response: type, title, status, detail, instance and errors (a list of
    `{path, message}`, empty when the problem has no one location). Under the TAXII API root,
    TAXII's error shape instead (`taxii_error`)."""
    if request.path.startswith(TAXII_PREFIX):
        return taxii_error(status, detail, errors, headers)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "instance": request.path,
        "errors": list(errors or []),
    }
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def taxii_error(
    status: int,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A TAXII 2.1 error message (section 3.6.1): title, description, http_status (a string)
    and, where the problem has locations, `details` keyed by each."""
    body: dict[str, Any] = {
        "title": HTTPStatus(status).phrase,
        "description": detail or HTTPStatus(status).description,
        "http_status": str(status),
    }
    if errors:
        body["details"] = {e["path"]: e["message"] for e in errors}
    response = Response(json.dumps(body), status=status, content_type=TAXII_MEDIA_TYPE)
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


# Locations whose fields are parameters: their messages are the parameter's, items included.
PARAMETER_LOCATIONS = ("query", "path", "headers", "cookies", "querystring")


def join_path(prefix: str, key: Any) -> str:
    """`events` + 3 -> `events[3]`; `events[3]` + `date` -> `events[3].date`; webargs'
    `_schema` (the whole object) adds nothing."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return f"{prefix}[{key}]"
    if key == "_schema":
        return prefix
    return f"{prefix}.{key}" if prefix else str(key)


def located(errors: Any, prefix: str = "") -> list[dict[str, str]]:
    """Nested messages (marshmallow's and webargs' `{location: {field: [messages]}}`) as the
    one list of `{path, message}`: `query.limit`, `json.events[3].date`. A query parameter's
    item errors (`ids=a,B`) are the parameter's."""
    if isinstance(errors, dict):
        found: list[dict[str, str]] = []
        for key, value in errors.items():
            path = join_path(prefix, key)
            if not prefix and key in PARAMETER_LOCATIONS and isinstance(value, dict):
                for name, texts in value.items():
                    where = join_path(path, name)
                    found += [{"path": where, "message": m} for m in messages(texts)]
            else:
                found += located(value, path)
        return found
    if isinstance(errors, list | tuple):
        if all(isinstance(e, dict) and set(e) == {"path", "message"} for e in errors):
            return [{"path": str(e["path"]), "message": str(e["message"])} for e in errors]
        return [{"path": prefix, "message": m} for m in messages(errors)]
    return [{"path": prefix, "message": str(errors)}]


def describe(errors: dict[str, Any]) -> str:
    """One readable sentence from webargs' {location: {field: [messages]}} errors."""
    parts = []
    for location, fields in errors.items():
        if not isinstance(fields, dict):
            parts.append(f"{location}: {' '.join(messages(fields))}")
            continue
        for field, texts in fields.items():
            text = " ".join(messages(texts)).rstrip(".")
            parts.append(f"{location} parameter {field!r}: {text}")
    return "Invalid request. " + "; ".join(parts) + "."


def http_problem(error: HTTPException) -> Response:
    """Any HTTPException (abort, 404, 405, webargs' 422) as a problem."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    detail = data.get("message") or (
        describe(errors) if isinstance(errors, dict) and errors else error.description
    )
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(error.code or 500, detail, located(errors) if errors else None, headers)


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
    """A domain error of the query layer as a problem: 404, 410 or 422 naming the parameter."""
    if isinstance(error, NotFound):
        return problem(404, error.detail)
    if isinstance(error, Gone):
        return problem(410, error.detail)
    if isinstance(error, InvalidParameter):
        where = f"query.{error.parameter}"
        return problem(422, error.detail, [{"path": where, "message": m} for m in error.messages])
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


def forbidden(error: Forbidden) -> NoReturn:
    """403 naming the owner(s) the write would need, each thing refused in `errors` (its
    path and its owners); nothing was written."""
    abort(
        403,
        message=str(error),
        errors=[{"path": refusal.path, "message": refusal.message} for refusal in error.refusals],
    )
