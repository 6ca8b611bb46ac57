"""A faster `Schema.dump` for records that are already dicts (issue #14).

marshmallow dumps a 50-event page through ~140,000 `Field.serialize` calls (a fifth of the
request). `dumper(schema)` compiles a schema, once, into one function per field: the plain
fields the records use (String, Integer, Float, Boolean, Raw, Date, Nested, List of Nested)
become a type check and a copy; every other field (`Url`, Method, a `format`, a default, a
dotted attribute, ...) and every value of an unexpected type goes through the field's own
`serialize`, and a schema with `pre_dump`/`post_dump` hooks or an object that is not a dict is
dumped by marshmallow itself. The result is what `schema.dump` returns, key for key and in the
same order: tests/test_fastdump.py checks it for every collection and view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow.utils import missing

Dump = Callable[[Any], Any]
marshmallow_dump = ma.Schema.dump  # the original, even on an instance given a fast `dump`
_MISSING = missing
_compiled: dict[tuple, Dump] = {}


def _plain(field: fields.Field) -> bool:
    """A field whose dump depends on nothing but its value (no default, no dotted path)."""
    return (
        field.dump_default is missing
        and (field.attribute is None or "." not in field.attribute)
        and type(field)._CHECK_ATTRIBUTE
    )


def _value_dump(field: fields.Field, name: str) -> Dump | None:
    """value -> dumped value for the field kinds the records use; None: use the field."""
    kind = type(field)
    generic = field._serialize

    if kind is fields.String:
        return lambda v: v if v is None or type(v) is str else generic(v, name, None)
    if kind is fields.Integer and not field.as_string:
        return lambda v: v if v is None or type(v) is int else generic(v, name, None)
    if kind is fields.Float and not field.as_string:
        return lambda v: v if v is None or type(v) is float else generic(v, name, None)
    if kind in (fields.Boolean, fields.Raw):
        return lambda v: v
    if kind is fields.Date and field.format in (None, "iso"):
        date = dt.date
        return lambda v: (
            v.isoformat() if type(v) is date else (None if v is None else generic(v, name, None))
        )
    if kind is fields.DateTime and (field.format or field.DEFAULT_FORMAT) in ("iso", "iso8601"):
        stamp = dt.datetime
        return lambda v: (
            v.isoformat() if type(v) is stamp else (None if v is None else generic(v, name, None))
        )
    if kind is fields.Nested and not field.many and not field.only and not field.exclude:
        nested = field.schema
        if nested.only is None and not nested.exclude and not nested.many:
            inner = dumper(nested)
            return lambda v: None if v is None else inner(v)
    if kind is fields.List and type(field.inner) is fields.Nested:
        item = _value_dump(field.inner, name)
        if item is not None:
            return lambda v: None if v is None else [item(x) for x in v]
    return None


def dumper(schema: ma.Schema) -> Dump:
    """`obj -> schema.dump(obj)` for one object (not `many`), compiled once per schema shape."""
    key = (type(schema), schema.only and tuple(sorted(schema.only)), tuple(schema.exclude))
    found = _compiled.get(key)
    if found is not None:
        return found
    if (
        schema._hooks[("pre_dump", False)]
        or schema._hooks[("post_dump", False)]
        or (schema._hooks[("pre_dump", True)] or schema._hooks[("post_dump", True)])
    ):
        found = lambda obj: marshmallow_dump(schema, obj, many=False)  # noqa: E731
        _compiled[key] = found
        return found
    plan: list[tuple[str, str, Dump | None, fields.Field]] = []
    for name, field in schema.dump_fields.items():
        attribute = field.attribute or name
        key_out = field.data_key if field.data_key is not None else name
        fast = _value_dump(field, name) if _plain(field) else None
        plan.append((attribute, key_out, fast, field))
    accessor = schema.get_attribute

    def dump_one(obj: Any) -> Any:
        if type(obj) is not dict:
            return marshmallow_dump(schema, obj, many=False)
        result = {}
        for attribute, key_out, fast, field in plan:
            if fast is None:
                value = field.serialize(attribute, obj, accessor=accessor)
                if value is not _MISSING:
                    result[key_out] = value
                continue
            value = obj.get(attribute, _MISSING)
            if value is _MISSING:
                continue
            result[key_out] = fast(value)
        return result

    _compiled[key] = dump_one
    return dump_one


def dump(schema: ma.Schema, obj: Any, many: bool | None = None) -> Any:
    """What `schema.dump(obj, many=many)` returns, faster for dict records."""
    many = schema.many if many is None else many
    one = dumper(schema)
    return [one(item) for item in obj] if many else one(obj)


def install(schema: ma.Schema) -> ma.Schema:
    """Give one schema instance the fast `dump` (its class, and so the spec, is unchanged)."""
    schema.dump = lambda obj, *, many=None: dump(schema, obj, many)
    return schema
