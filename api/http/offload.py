"""Work that would stop a gevent worker's loop, run in gevent's thread pool instead.

Under gunicorn's gevent workers every request of a worker shares one loop: a verification
that hashes for a tenth of a second in C, or an import that parses and writes a 5 MB bundle,
would hold every other connection of the worker (health probes included) that long. In the
thread pool the loop goes on: argon2 releases the GIL, and Python work gives it back every
few milliseconds. Without gevent (tests, `flask run`, other workers) the work runs in place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from api.store import db

T = TypeVar("T")


def cooperative() -> bool:
    """True in a gevent worker (the standard library patched)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def run_blocking(work: Callable[..., T], *args: object, database: bool = False) -> T:
    """`work(*args)`, in gevent's thread pool when the worker is cooperative (its exceptions
    raised here), else in place. `database=True`: in the pool, `work` runs with a database
    connection of its own, given back to the pool after."""
    if not cooperative():
        return work(*args)
    import gevent

    if database:
        args = (work, *args)
        work = _with_connection
    return gevent.get_hub().threadpool.apply(work, args)


def _with_connection(work: Callable[..., T], *args: object) -> T:
    with db.database.connection_context():
        return work(*args)
