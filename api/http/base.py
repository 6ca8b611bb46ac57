"""flask-smorest base classes, customized in one place: Api (docs and error handling),
Blueprint and the query parser."""

from __future__ import annotations

import http
import threading
from typing import Any

import flask_smorest
import marshmallow as ma
import peewee as pw
from cachetools import LRUCache
from flask import request
from flask_smorest.utils import prepare_response, resolve_schema_instance
from webargs.flaskparser import FlaskParser

from api.http.errors import (
    OPERATIONAL_ERRORS,
    PROBLEM_JSON,
    database_problem,
    domain_problem,
    http_problem,
    unexpected_problem,
)
from api.queries.errors import QueryError
from schemas import fastdump
from schemas.errors import ProblemSchema


class Api(flask_smorest.Api):
    """flask-smorest's Api speaking problem+json for every error, and documenting it."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        super()._register_error_handlers()  # HTTPException -> handle_http_exception
        self._app.register_error_handler(QueryError, domain_problem)
        self._app.register_error_handler(pw.DatabaseError, database_problem)
        self._app.register_error_handler(pw.InterfaceError, database_problem)
        # the drivers' own errors, where peewee lets one through unwrapped (a row fetched
        # while a query is stopped): answered as peewee's
        for driver_error in OPERATIONAL_ERRORS:
            self._app.register_error_handler(driver_error, database_problem)
        self._app.register_error_handler(Exception, unexpected_problem)

    def handle_http_exception(self, error):
        """flask-smorest's documented hook for the error shape: problem+json."""
        return http_problem(error)

    def _register_responses(self) -> None:
        # Same as flask-smorest's, but errors are documented as application/problem+json.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class QueryParser(FlaskParser):
    """webargs' Flask parser, remembering what each query string parsed to, per schema: a
    list's arguments are parsed once per distinct query string. Arguments depend
    on nothing but the query string; what is refused (a 422) is parsed again each time. Each
    request gets its own copy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parsed: LRUCache = LRUCache(maxsize=2048)
        self._lock = threading.Lock()

    def parse(self, argmap: Any, req: Any = None, **kwargs: Any) -> Any:
        if (
            kwargs.get("location") != "query"
            or kwargs.get("validate")
            or not isinstance(argmap, ma.Schema)
        ):
            return super().parse(argmap, req, **kwargs)
        key = (argmap, kwargs.get("unknown"), (req or request).query_string)
        with self._lock:
            found = self._parsed.get(key)
        if found is None:
            found = super().parse(argmap, req, **kwargs)
            if not isinstance(found, dict):
                return found
            with self._lock:
                self._parsed[key] = found
        return {k: list(v) if isinstance(v, list) else v for k, v in found.items()}


class Blueprint(flask_smorest.Blueprint):
    """A blueprint whose argument schemas decide on unknown fields (ours say RAISE), parsed
    once per query string (QueryParser), and whose responses are dumped by
    schemas/fastdump.py (what marshmallow would write, faster)."""

    ARGUMENTS_PARSER = QueryParser(unknown=None)

    def response(self, status_code, schema=None, **kwargs):
        if schema is not None and not isinstance(schema, dict):  # a dict: documented only
            schema = fastdump.install(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)


def problem_doc(description: str, example: dict | None = None) -> dict:
    """`alt_response` arguments documenting an error response in the one problem shape."""
    doc = {"schema": ProblemSchema, "content_type": PROBLEM_JSON, "description": description}
    return doc | ({"example": example} if example else {})


# The 401 of every operation that needs a key
NO_KEY_DOC = problem_doc("No valid API key (see WWW-Authenticate).")


def problem_example(status: int, instance: str, detail: str, path: str, message: str) -> dict:
    """An example problem naming one problem where it is (`path`)."""
    return {
        "type": "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [{"path": path, "message": message}],
    }
