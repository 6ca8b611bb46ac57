"""peewee as mypy sees it: Any (the stubs bundled with peewee 4 lack much of its query API, e.g. SelectQuery.select_extend, and the implicit id field)."""

from typing import Any

def __getattr__(name: str) -> Any: ...
