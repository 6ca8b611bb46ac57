"""The grammar every query-argument schema shares (schemas/arguments.py builds on it): an unknown
parameter is refused, and so is a repeated parameter that takes one value; a full-text `q` is
bounded in characters and in words, since each word costs an index lookup."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
MAX_QUERY_LENGTH = 500
MAX_QUERY_TERMS = 16  # words of a full-text `q` (api/queries/fulltext.py MAX_TERMS)
_WORD = re.compile(r"\w+", re.UNICODE)  # as api/queries/fulltext.py splits a query
# A number as written: what Python's int() and float() read besides (spaces around it,
# underscores between digits) is refused, not reinterpreted.
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def meta(description: str, example: Any = None, **extra: Any) -> dict:
    """Parameter docs, with an example that Swagger UI pre-fills ("Try it out") and that
    tests/test_contract_spec.py checks against the data."""
    if example is not None:
        shown = ",".join(map(str, example)) if isinstance(example, list) else example
        description = f"{description} Example: `{shown}`."
        extra["example"] = example
    return {"description": description, **extra}


def _takes_many(field: fields.Field) -> bool:
    """Whether a query parameter may repeat (webargs' rule: a List, unless it is delimited)."""
    explicit = getattr(field, "is_multiple", None)
    return explicit if explicit is not None else isinstance(field, fields.List | fields.Tuple)


def _max_terms(value: str) -> None:
    """A full-text query of at most MAX_QUERY_TERMS words: its cost grows with each word."""
    count = len(_WORD.findall(value))
    if count > MAX_QUERY_TERMS:
        raise ma.ValidationError(
            f"At most {MAX_QUERY_TERMS} words; this query has {count}. Keep the distinctive ones."
        )


def full_text_field(description: str, **extra: Any) -> fields.String:
    """A full-text `q`: at most MAX_QUERY_LENGTH characters and MAX_QUERY_TERMS words."""
    return fields.String(
        validate=[validate.Length(min=1, max=MAX_QUERY_LENGTH), NO_NUL, _max_terms],
        metadata=meta(
            f"{description} A word of one character matches whole words only. At most "
            f"{MAX_QUERY_TERMS} words and {MAX_QUERY_LENGTH} characters.",
            extra.pop("example", None),
        ),
        **extra,
    )


def _written_as_number(field: fields.Field, value: Any) -> bool:
    """False for a number parameter whose text Python would read only by being lenient."""
    if not isinstance(value, str):
        return True
    if isinstance(field, fields.Integer):
        return _INTEGER.fullmatch(value) is not None
    if isinstance(field, fields.Float):
        return _FLOAT.fullmatch(value) is not None
    return True


class QueryArgs(ma.Schema):
    """Query parameters: an unknown one is an error, so a typo never goes unnoticed; so is a
    repeated parameter that takes one value (`limit=2&limit=3` must not pick one silently)."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def refuse_repeated(self, data: Any, **kwargs: Any) -> Any:
        """A single-value parameter given more than once, or a number not written as one."""
        raw = getattr(data, "data", data)  # webargs' MultiDictProxy wraps the request's args
        if not hasattr(raw, "getlist"):
            return data
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            values = raw.getlist(key)
            if not _takes_many(field) and len(values) > 1:
                errors[key] = ["Given more than once; this parameter takes a single value."]
            elif values and not _written_as_number(field, values[0]):
                errors[key] = ["Not a valid number: digits only, with no spaces around them."]
        if errors:
            raise ma.ValidationError(errors)
        return data
