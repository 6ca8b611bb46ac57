"""A faster `Schema.dump` for records that are already dicts.

marshmallow dumps a 50-event page through ~140,000 `Field.serialize` calls (a fifth of the
request). `dumper(schema)` compiles a schema, once, into one function per field: the plain
fields the records use (String, Integer, Float, Boolean, Raw, Date, Nested, List of Nested)
become a type check and a copy; every other field (`Url`, Method, a `format`, a default, a
dotted attribute, ...) and every value of an unexpected type goes through the field's own
`serialize`, and a schema with `pre_dump`/`post_dump` hooks or an object that is not a dict is
dumped by marshmallow itself. The result is what `schema.dump` returns, key for key and in the
same order: tests/test_fastdump.py checks it for every collection and view. Records a loader
already built in that shape (`Dumped`) are not dumped again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import marshmallow as ma
import orjson
from marshmallow import fields
from marshmallow.utils import missing

_Dump = Callable[[Any], Any]
marshmallow_dump = ma.Schema.dump  # the original, even on an instance given a fast `dump`
_MISSING = missing
_compiled: dict[tuple, _Dump] = {}


def _plain(field: fields.Field) -> bool:
    """A field whose dump depends on nothing but its value (no default, no dotted path)."""
    return (
        field.dump_default is missing
        and (field.attribute is None or "." not in field.attribute)
        and type(field)._CHECK_ATTRIBUTE
    )


def _value_dump(field: fields.Field, name: str) -> _Dump | None:
    """value -> dumped value for the field kinds the records use; None: use the field."""
    kind = type(field)
    generic = field._serialize

    if kind is fields.String:
        return lambda v: v if v is None or type(v) is str else generic(v, name, None)
    if isinstance(field, fields.Integer) and kind is fields.Integer and not field.as_string:
        return lambda v: v if v is None or type(v) is int else generic(v, name, None)
    if isinstance(field, fields.Float) and kind is fields.Float and not field.as_string:
        return lambda v: v if v is None or type(v) is float else generic(v, name, None)
    if kind in (fields.Boolean, fields.Raw):
        return lambda v: v
    if isinstance(field, fields.Date) and kind is fields.Date and field.format in (None, "iso"):
        date = dt.date
        return lambda v: (
            v.isoformat() if type(v) is date else (None if v is None else generic(v, name, None))
        )
    if (
        isinstance(field, fields.DateTime)
        and kind is fields.DateTime
        and (field.format or field.DEFAULT_FORMAT) in ("iso", "iso8601")
    ):
        stamp = dt.datetime
        return lambda v: (
            v.isoformat() if type(v) is stamp else (None if v is None else generic(v, name, None))
        )
    nested = _simple_nested(field)
    if nested is not None:
        inner = dumper(nested)
        return lambda v: None if v is None else inner(v)
    if isinstance(field, fields.List) and type(field.inner) is fields.Nested:
        item = _value_dump(field.inner, name)
        if item is not None:
            return lambda v: None if v is None else [item(x) for x in v]
    return None


# Scalar kinds written inline by `dumper`'s generated code: `v` is the value, `generic` the
# field's own `_serialize` (for a value of an unexpected type).
_INLINE = {
    fields.String: "v if v is None or type(v) is str else {generic}(v, {name!r}, None)",
    fields.Integer: "v if v is None or type(v) is int else {generic}(v, {name!r}, None)",
    fields.Float: "v if v is None or type(v) is float else {generic}(v, {name!r}, None)",
    fields.Boolean: "v",
    fields.Raw: "v",
    fields.Date: "v.isoformat() if type(v) is date else "
    "(None if v is None else {generic}(v, {name!r}, None))",
    fields.DateTime: "v.isoformat() if type(v) is stamp else "
    "(None if v is None else {generic}(v, {name!r}, None))",
}


def _inline(field: fields.Field, name: str, generic: str) -> str | None:
    """The expression of `_value_dump(field, name)` for a scalar field, as Python source."""
    kind = type(field)
    if kind not in _INLINE or getattr(field, "as_string", False):
        return None
    if isinstance(field, fields.Date) and field.format not in (None, "iso"):
        return None
    if isinstance(field, fields.DateTime) and (field.format or field.DEFAULT_FORMAT) not in (
        "iso",
        "iso8601",
    ):
        return None
    return _INLINE[kind].format(generic=generic, name=name)


def _simple_nested(field: fields.Field) -> ma.Schema | None:
    """The schema of a Nested field that `_value_dump` dumps with `dumper`, else None."""
    if not isinstance(field, fields.Nested) or type(field) is not fields.Nested:
        return None
    if field.many or field.only or field.exclude:
        return None
    nested = field.schema
    return nested if nested.only is None and not nested.exclude and not nested.many else None


def _inline_nested(field: fields.Field, i: int, scope: dict[str, Any]) -> str | None:
    """`_value_dump` of a Nested field, or of a List of one, as Python source (its schema's
    dumper in `scope` as `inner_<i>`); None for any other field."""
    inner = field.inner if isinstance(field, fields.List) and type(field) is fields.List else field
    nested = _simple_nested(inner)
    if nested is None:
        return None
    scope[f"inner_{i}"] = dumper(nested)
    if inner is field:
        return f"None if v is None else inner_{i}(v)"
    return f"None if v is None else [None if x is None else inner_{i}(x) for x in v]"


def dumper(schema: ma.Schema) -> _Dump:
    """`obj -> schema.dump(obj)` for one object (not `many`), compiled once per schema shape:
    one generated function per schema, its scalar fields written inline."""
    key = (type(schema), schema.only and tuple(sorted(schema.only)), tuple(schema.exclude))
    found = _compiled.get(key)
    if found is not None:
        return found
    if schema._hooks.get("pre_dump") or schema._hooks.get("post_dump"):
        found = lambda obj: marshmallow_dump(schema, obj, many=False)  # noqa: E731
        _compiled[key] = found
        return found
    scope: dict[str, Any] = {
        "MISSING": _MISSING,
        "marshmallow_dump": marshmallow_dump,
        "schema": schema,
        "accessor": schema.get_attribute,
        "date": dt.date,
        "stamp": dt.datetime,
    }
    lines = [
        "def dump_one(obj):",
        "    if type(obj) is not dict:",
        "        return marshmallow_dump(schema, obj, many=False)",
        "    result = {}",
        "    get = obj.get",
    ]
    for i, (name, field) in enumerate(schema.dump_fields.items()):
        attribute = field.attribute or name
        key_out = field.data_key if field.data_key is not None else name
        scope[f"field_{i}"] = field
        scope[f"generic_{i}"] = field._serialize
        expression = _inline(field, name, f"generic_{i}") if _plain(field) else None
        if expression is None and _plain(field):
            expression = _inline_nested(field, i, scope)
        if expression is None and _plain(field):
            fast = _value_dump(field, name)
            if fast is not None:
                scope[f"fast_{i}"] = fast
                expression = f"fast_{i}(v)"
        if expression is None:  # the field's own serialize
            lines += [
                f"    v = field_{i}.serialize({attribute!r}, obj, accessor=accessor)",
                "    if v is not MISSING:",
                f"        result[{key_out!r}] = v",
            ]
            continue
        lines += [
            f"    v = get({attribute!r}, MISSING)",
            "    if v is not MISSING:",
            f"        result[{key_out!r}] = {expression}",
        ]
    lines.append("    return result")
    exec(compile("\n".join(lines), f"<fastdump {type(schema).__name__}>", "exec"), scope)
    found = _compiled[key] = scope["dump_one"]
    return found


class Dumped(list):
    """Records already in the shape `schema.dump` gives them, up to how dates are written:
    each a dict with the schema's keys in its order, nested likewise, each value of the type
    its field writes, dates and datetimes left as such. `dump` returns them unchanged, and
    `as_json` writes them: orjson writes a date and a datetime as `isoformat()` does, as
    marshmallow's fields do (tests/test_fastdump.py compares the bytes for every response)."""

    __slots__ = ()


def as_json(records: Dumped) -> bytes:
    """The JSON of `Dumped` records: the bytes the dumped records would be written as."""
    return orjson.dumps(records, option=orjson.OPT_NON_STR_KEYS)


class Written(list):
    """Records already written as JSON (str), each exactly as `as_json` writes its record
    (api/queries/rendered.py keeps events so): `dump` returns them unchanged, `written_json`
    joins them into the list."""

    __slots__ = ()


class WrittenRecord(str):
    """One record already written as JSON, exactly as `as_json` writes it, with its `version`
    (its ETag derives from it): `dump` returns it unchanged, the JSON provider writes it."""

    version: int


def record_json(record: dict) -> str:
    """One record as `as_json` writes it inside a list (orjson writes a list as its items'
    JSON joined by commas)."""
    return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode()


def written_json(written: Written | WrittenRecord) -> bytes:
    """The JSON of a `WrittenRecord`, or the JSON list of `Written` records."""
    if type(written) is WrittenRecord:
        return written.encode()
    return f"[{','.join(written)}]".encode()


def dump(schema: ma.Schema, obj: Any, many: bool | None = None) -> Any:
    """What `schema.dump(obj, many=many)` returns, faster for dict records; `Dumped` records
    as they are."""
    if type(obj) in (Dumped, Written, WrittenRecord):
        return obj
    many = schema.many if many is None else many
    one = dumper(schema)
    return [one(item) for item in obj] if many else one(obj)


def install(schema: ma.Schema) -> ma.Schema:
    """Give one schema instance the fast `dump` (its class, and so the spec, is unchanged)."""
    schema.dump = lambda obj, *, many=None: dump(schema, obj, many)  # type: ignore[method-assign]
    return schema
