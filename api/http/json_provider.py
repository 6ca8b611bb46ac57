"""Flask's JSON, written by orjson: the same JSON values as Flask's default provider
(its `default` still handles dates, Decimal, UUID and dataclasses the same way), several times
faster on a page of records. Non-ASCII text is written as UTF-8 rather than `\\u` escapes. In
debug mode, or for what orjson refuses (integers beyond 64 bits), the default provider writes.
Records a loader built as their schema dumps them (schemas/fastdump.py `Dumped`) are written
by `fastdump.as_json`.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

from schemas import fastdump

OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class JSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self.dump_bytes(obj, **kwargs).decode()

    def dump_bytes(self, obj: Any, **kwargs: Any) -> bytes:
        if type(obj) is fastdump.Written or type(obj) is fastdump.WrittenRecord:
            if not kwargs and not self._app.debug:  # records already written as JSON
                return fastdump.written_json(obj)
            obj = orjson.loads(fastdump.written_json(obj))  # written below with the options
        if type(obj) is fastdump.Dumped:  # records as their schema dumps them
            if not kwargs and not self._app.debug:
                return fastdump.as_json(obj)
            obj = orjson.loads(fastdump.as_json(obj))  # written below as the dump would be
        if not kwargs and not self._app.debug:
            try:
                return orjson.dumps(obj, default=self.default, option=OPTIONS)
            except orjson.JSONEncodeError:
                pass
        return super().dumps(obj, **kwargs).encode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        if self._app.debug:
            return super().response(*args, **kwargs)
        response_class = cast("type[Response]", self._app.response_class)  # typed as sansio's
        return response_class(self.dump_bytes(obj), mimetype=self.mimetype)
