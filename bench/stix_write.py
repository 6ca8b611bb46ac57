"""A write to a hub actor at scale: what its answer waits for, and what follows it.

```sh
flock /work/corpus/bench.lock .venv/bin/python -m bench.stix_write \
    --database-url sqlite:////work/corpus/stix-1m.db
```

On a copy of the 1M corpus (it writes): the actor that takes part in the most events gets a
new description (`--rename`: and name) and version in one write transaction that then renders
what it left stale, as curation's update does (the synthetic corpus's citations quote sources
without text, which a PATCH's validation refuses, so the row is updated directly: the triggers
fire the same), timed; then, where the code has it (`stix_kept.settle`, run after the answer),
the rendering of the objects that show the actor, timed; then a TAXII poll with `added_after`
the time before the write, its first page of 1,000 timed and counted. The database keeps the
write (run it again: the same work, another description).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--actor", help="the actor's id (default: the one in most events)")
    parser.add_argument(
        "--rename", action="store_true", help="change its name (event records show it) too"
    )
    options = parser.parse_args(argv)

    from api.app import create_app
    from api.queries import stix_kept
    from api.queries.events import EVENT_JSON
    from api.store.db import database
    from api.store.ddl import exclusive
    from api.store.models import Actor, StixStale, utcnow

    app = create_app(
        {"DATABASE_URL": options.database_url, "RESPONSE_CACHE": False, "QUERY_TIMEOUT_MS": 0}
    )
    with database.connection_context():
        if options.actor:
            slug = options.actor
        else:
            hub = database.execute_sql(
                "SELECT actor_id FROM event_participant GROUP BY actor_id "
                "ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()[0]
            slug = Actor.get_by_id(hub).slug
        stale_before = StixStale.select().count()
    result: dict = {"backend": options.database_url.split(":")[0], "actor": slug}
    result["load_average_before"] = os.getloadavg()
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    started = time.perf_counter()
    with database.connection_context(), exclusive():
        values = {"description": f"Changed by bench.stix_write at {since}."}
        if options.rename:
            values["name"] = f"Renamed at {since}"
        Actor.update(**values, version=Actor.version + 1, updated_at=utcnow()).where(
            Actor.slug == slug
        ).execute()
        marked = time.perf_counter()
        EVENT_JSON.refresh()  # what write.render_stale does: event records, then STIX objects
        events = time.perf_counter()
        stix_kept.refresh()
        objects = time.perf_counter()
    result["write_s"] = round(time.perf_counter() - started, 2)
    result["of_which_update_and_triggers_s"] = round(marked - started, 2)
    result["of_which_event_records_s"] = round(events - marked, 2)
    result["of_which_stix_objects_s"] = round(objects - events, 2)
    with database.connection_context():
        result["marks_left_by_the_write"] = StixStale.select().count() - stale_before
    if hasattr(stix_kept, "settle"):  # rendered after the answer
        started = time.perf_counter()
        with database.connection_context():
            rendered = stix_kept.settle()
        took = time.perf_counter() - started
        result["settle_s"] = round(took, 1)
        result["settle_objects"] = rendered
        result["settle_objects_per_s"] = round(rendered / took) if took else None
    client = app.test_client()
    collections = client.get("/taxii2/briefing/collections/").json["collections"]
    url = f"/taxii2/briefing/collections/{collections[0]['id']}/objects/"
    started = time.perf_counter()
    polled = client.get(f"{url}?limit=1000&added_after={since}")
    result["poll_first_page_ms"] = round((time.perf_counter() - started) * 1000, 1)
    result["poll_first_page_objects"] = len(polled.json.get("objects", ()))
    result["poll_more"] = polled.json.get("more")
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
