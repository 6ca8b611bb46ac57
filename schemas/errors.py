"""The error shape (RFC 9457 problem details), as documented in the spec."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class ProblemSchema(ma.Schema):
    """Every error, 4xx and 5xx: `application/problem+json`."""

    type = fields.String(
        metadata={"description": "A URI naming the problem type.", "example": "about:blank"}
    )
    title = fields.String(
        metadata={"description": "The HTTP status phrase.", "example": "Unprocessable Content"}
    )
    status = fields.Integer(metadata={"description": "The HTTP status code.", "example": 422})
    detail = fields.String(
        metadata={
            "description": "What went wrong, for a human.",
            "example": "Invalid request. query parameter 'limt': Unknown field.",
        }
    )
    instance = fields.String(metadata={"description": "The request path.", "example": "/v1/events"})
    errors = fields.Dict(
        metadata={
            "description": "Validation errors only: messages by location (`query`, `path`), "
            "then by parameter name.",
            "x-optional": True,
            "example": {"query": {"limt": ["Unknown field."]}},
        }
    )
