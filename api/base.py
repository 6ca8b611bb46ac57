"""flask-smorest base classes, customized in one place: Api (docs and error handling),
Blueprint and the query parser."""

from __future__ import annotations

import http

import flask_smorest
import peewee as pw
from flask_smorest.utils import prepare_response, resolve_schema_instance
from webargs.flaskparser import FlaskParser

from api.errors import (
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
        self._app.register_error_handler(Exception, unexpected_problem)

    def handle_http_exception(self, error):
        """flask-smorest's documented hook for the error shape: problem+json."""
        return http_problem(error)

    def _register_responses(self) -> None:
        # Same as flask-smorest's, but errors are documented as application/problem+json.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class Blueprint(flask_smorest.Blueprint):
    """A blueprint whose argument schemas decide on unknown fields (ours say RAISE), and whose
    responses are dumped by schemas/fastdump.py (what marshmallow would write, faster)."""

    ARGUMENTS_PARSER = FlaskParser(unknown=None)

    def response(self, status_code, schema=None, **kwargs):
        if schema is not None:
            schema = fastdump.install(resolve_schema_instance(schema))
        return super().response(status_code, schema, **kwargs)


def problem_doc(description: str) -> dict:
    """`alt_response` arguments documenting an error response in the problem shape."""
    return {"schema": ProblemSchema, "content_type": PROBLEM_JSON, "description": description}
