"""The error shape (RFC 9457 problem details), as documented in the spec: one schema for every
4xx and 5xx."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class ProblemErrorSchema(ma.Schema):
    """One problem, where it is."""

    path = fields.String(
        required=True,
        metadata={
            "description": "Where: a request parameter as `location.name` (`query.limit`, "
            "`path.record_id`), a place in a bundle or record sent in the body "
            "(`events[3].date`; empty for the body as a whole), the path of a record that "
            "refers to the one a delete names (`/v1/events/rocket-attack-on-taji`), or a "
            "readiness check (`checks.fulltext`).",
            "example": "query.limit",
        },
    )
    message = fields.String(
        required=True,
        metadata={
            "description": "What is wrong there, for a human.",
            "example": "Must be greater than or equal to 1 and less than or equal to 500.",
        },
    )


class ProblemSchema(ma.Schema):
    """Every error, 4xx and 5xx: `application/problem+json`. `detail` is one sentence;
    `errors` lists each problem with its location (empty when the request as a whole is
    refused: no key, an unknown path, a rate limit)."""

    type = fields.String(
        metadata={"description": "A URI naming the problem type.", "example": "about:blank"}
    )
    title = fields.String(
        metadata={"description": "The HTTP status phrase.", "example": "Unprocessable Entity"}
    )
    status = fields.Integer(metadata={"description": "The HTTP status code.", "example": 422})
    detail = fields.String(
        metadata={
            "description": "What went wrong, in one sentence for a human.",
            "example": "Invalid request. query parameter 'limt': Unknown field.",
        }
    )
    instance = fields.String(
        metadata={
            "description": "The request path; absent only when the request could not be "
            "read as HTTP (a 400, 414 or 431 from the server before the application).",
            "x-optional": True,
            "example": "/v1/events",
        }
    )
    errors = fields.List(
        fields.Nested(ProblemErrorSchema),
        metadata={
            "description": "Every problem found, each with its location; empty when the "
            "problem has no one location.",
            "example": [{"path": "query.limt", "message": "Unknown field."}],
        },
    )
