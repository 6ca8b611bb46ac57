"""Arguments of the STIX exports and of the TAXII 2.1 server (its `match[...]` filters).

TAXII's parameters are its own (OASIS TAXII 2.1, section 3.4): `added_after`, `limit`,
`next` and `match[type|id|version|spec_version]`, each a comma-separated list where it takes
several values. Unknown parameters are refused, as everywhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas.bundle import SLUG
from schemas.exports import CommaList
from schemas.grammar import NO_NUL, QueryArgs, meta

TAXII_DEFAULT_LIMIT = 100
TAXII_MAX_LIMIT = 1000
# the STIX types records are exported as (api/queries/stix.py)
STIX_TYPES = ("report", "identity", "threat-actor", "location", "relationship", "incident", "note")
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}--[0-9a-fA-F-]{36}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def parse_timestamp(value: str) -> dt.datetime:
    """A STIX/TAXII timestamp (`2020-04-07T00:00:00.000Z`) as naive UTC; ValidationError
    otherwise."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        raise ma.ValidationError("Not a timestamp like 2020-04-07T00:00:00.000Z (UTC).")
    try:
        return dt.datetime.fromisoformat(value[:-1])
    except ValueError:
        raise ma.ValidationError("Not a valid date and time.") from None


class Timestamp(fields.Field):
    """A STIX timestamp parameter, loaded as naive UTC."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.datetime:
        return parse_timestamp(value)


class Version(fields.Field):
    """`match[version]`: `last`, `first`, `all` or timestamps, comma-separated."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple:
        if not isinstance(value, str) or not value:
            raise ma.ValidationError("Not a version list.")
        found: list[Any] = []
        for part in value.split(","):
            part = part.strip()
            found.append(part if part in ("last", "first", "all") else parse_timestamp(part))
        return tuple(found)


def _stix_ids(value: list[str]) -> None:
    bad = [v for v in value if not _STIX_ID.match(v)]
    if bad:
        raise ma.ValidationError(f"Not a STIX id: {bad[0]!r}.")


class TaxiiFilterArgs(QueryArgs):
    """The filters of a TAXII objects or manifest request."""

    added_after = Timestamp()
    limit = fields.Integer(
        load_default=TAXII_DEFAULT_LIMIT,
        validate=validate.Range(1, TAXII_MAX_LIMIT),
    )
    next = fields.String(validate=[validate.Length(max=2000), NO_NUL])
    match_type = CommaList(
        fields.String(validate=validate.OneOf((*STIX_TYPES, "extension-definition"))),
        data_key="match[type]",
    )
    match_id = CommaList(fields.String(), data_key="match[id]", validate=_stix_ids)
    match_version = Version(data_key="match[version]")
    match_spec_version = CommaList(fields.String(), data_key="match[spec_version]")


class TaxiiObjectArgs(QueryArgs):
    """The filters of a TAXII object or versions request."""

    added_after = Timestamp()
    limit = fields.Integer(validate=validate.Range(1, TAXII_MAX_LIMIT))
    next = fields.String(validate=[validate.Length(max=2000), NO_NUL])
    match_version = Version(data_key="match[version]")
    match_spec_version = CommaList(fields.String(), data_key="match[spec_version]")


class StixExportArgs(QueryArgs):
    """`GET /v1/stix`: which records the bundle holds."""

    source = fields.String(
        validate=SLUG,
        metadata=meta(
            "Only the source's report and what it cites (its TAXII collection).",
            "al-monitor-2020-04-07-us-iran-showdown-iraq",
        ),
    )
    type = CommaList(
        fields.String(validate=validate.OneOf(STIX_TYPES)),
        metadata=meta("Only objects of these STIX types (comma-separated).", ["incident"]),
    )
    added_after = Timestamp(
        metadata=meta(
            "Only objects added (written, or revoked) after this time (UTC, `Z`).",
            "2020-04-07T00:00:00.000Z",
        ),
    )


class RecordFormatArgs(QueryArgs):
    """A record's representation: JSON, or its STIX object in a bundle."""

    format = fields.String(
        validate=validate.OneOf(("json", "stix")),
        metadata=meta(
            "Response format (also negotiable with `Accept`): `json`: the record (the "
            "default); `stix`: a STIX 2.1 bundle of its object."
        ),
    )
