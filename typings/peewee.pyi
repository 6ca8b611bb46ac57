"""peewee as mypy sees it: Any. The stubs that peewee 4 ships lack much of its query API
(SelectQuery.select_extend, count, a model's implicit id) and would be guessed wrong."""

from typing import Any

def __getattr__(name: str) -> Any: ...
