"""Query parameters for integrators, shared by every collection's list: `fields=` (choose the
top-level fields), `ids=` (many records by id in one call), `bom=` (CSV for Excel), and the
comma-separated coordinates of `bbox` / `near`."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

_SLUG_TEXT = r"^[a-z0-9]+(?:--?[a-z0-9]+)*$"  # relation ids join slugs with `--`
MAX_IDS = 500


class CommaList(fields.List):
    """A repeatable parameter whose values may also be comma-separated: `ids=a,b&ids=c`."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list) else [value]
        parts = [p.strip() for v in values for p in str(v).split(",")]
        if not all(parts):  # `type=` or `a,,b` names nothing: never silently no filter
            raise ma.ValidationError("An empty value: name one, or leave the parameter out.")
        return super()._deserialize(parts, attr, data, **kwargs)


def _fields_param(schema: type[ma.Schema], **kwargs: Any) -> CommaList:
    names = list(schema._declared_fields)  # `id` among them: always returned, and accepted
    chosen = [n for n in names if n != "id"]
    return CommaList(
        fields.String(validate=validate.OneOf(names)),
        validate=validate.Length(min=1),
        metadata={
            "description": "Only these top-level fields of each record, repeated or "
            "comma-separated: smaller responses, narrower CSV and GeoJSON. `id` is always "
            f"returned (naming it is allowed). The JSON records then hold only `id` and those "
            f"fields: the `Partial{schema.__name__.removesuffix('Schema')}` schema, a "
            "record without its other required fields. Example: `title,date`.",
            "example": ([n for n in ("title", "name", "date") if n in chosen] or chosen)[:2],
        },
        **kwargs,
    )


def _ids_param(example: str, **kwargs: Any) -> CommaList:
    return CommaList(
        fields.String(validate=validate.Regexp(_SLUG_TEXT, error="Not a public id.")),
        validate=validate.Length(min=1, max=MAX_IDS),
        metadata={
            "description": f"Only the records with these public ids (up to {MAX_IDS}, "
            "repeated or comma-separated): many records in one call. Unknown ids are "
            f"simply absent from the result. Example: `{example}`.",
            "example": [example],
        },
        **kwargs,
    )


def _bom_param() -> fields.Boolean:
    return fields.Boolean(
        metadata={
            "description": "CSV only: `true` starts the file with a UTF-8 byte order mark, "
            "so that Excel reads non-Latin text (Arabic, Persian aliases) correctly."
        }
    )


def export_args(schema: type[ma.Schema], example: str) -> type[ma.Schema]:
    """The export parameters of one collection's list (a base class of its arguments; mypy
    cannot follow a base made at run time, hence `type: ignore[misc]` where it is used)."""
    return type(
        f"{schema.__name__}ExportArgs",
        (ma.Schema,),
        {
            "fields_": _fields_param(schema, data_key="fields"),
            "ids_": _ids_param(example, data_key="ids"),
            "bom": _bom_param(),
        },
    )


class CommaNumbers(fields.String):
    """Numbers as one comma-separated string (`38.7,29.0,48.6,37.4`), as the spec documents
    it; the exploded array form (`bbox=38.7&bbox=29.0&...`) is accepted too."""

    is_multiple = True  # webargs hands over every occurrence of the parameter

    def __init__(self, count: int, **kwargs: Any) -> None:
        self.count = count
        super().__init__(**kwargs)

    def _deserialize(  # type: ignore[override]  # a string in the spec, numbers when loaded
        self, value: Any, attr: Any, data: Any, **kwargs: Any
    ) -> list[float]:
        parts = value if isinstance(value, list) else [value]
        numbers = [p.strip() for part in parts for p in str(part).split(",")]
        try:
            result = [float(n) for n in numbers]
        except ValueError:
            raise ma.ValidationError(
                f"Must be {self.count} comma-separated numbers, like the example."
            ) from None
        if len(result) != self.count or any(
            n != n or n in (float("inf"), -float("inf")) for n in result
        ):
            raise ma.ValidationError(
                f"Must be {self.count} comma-separated numbers, like the example."
            )
        return result
