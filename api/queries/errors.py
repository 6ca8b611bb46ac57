"""Domain errors of the query layer. They name what is wrong in the caller's terms; the HTTP
layer (api/http/errors.py) maps each to its problem+json response."""

from __future__ import annotations


class QueryError(Exception):
    """A request the query layer cannot answer; `detail` is a sentence for the client."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(QueryError):
    """No record has the public id asked for."""


class Gone(QueryError):
    """What was asked for existed and was deleted (a release)."""


class InvalidParameter(QueryError):
    """A parameter's value is well-formed but cannot be used (an unknown id, a forged cursor)."""

    def __init__(self, parameter: str, detail: str, messages: list[str] | None = None):
        super().__init__(detail)
        self.parameter = parameter
        self.messages = messages or [detail]
