"""Concurrent imports: several processes importing two versions of one bundle in turn.

    createdb -h 127.0.0.1 -U postgres race
    .venv/bin/python -m bench.concurrent_import \
        --database-url postgresql://postgres@127.0.0.1:5432/race --importers 4 --imports 20

Version A is tests/fixtures/import/andes.yaml; version B drops its statement (and `reuters`,
which only the statement used) and retitles its event. Each importer process runs
`api.ingest.load_files` --imports times, alternating A and B (half the processes start with
B), and notes when each import returned. Then the final
state must be the bundle of the last import to return (imports are serialised: the last to
return is the last to commit), whole (no mixture of A and B), with the search index
(`search_document`) in step with the records. The database is dropped and recreated first:
never point it at data you keep. Only uses `load_files`, so it also runs against older code.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "tests" / "fixtures" / "import" / "andes.yaml"
SOURCE_ID = "test-andes-2023-05-12-bloqueo-oruro"
STATEMENT_ID = "test-quispe-reuters-2023-05"
EVENT_ID = "test-bloqueo-la-paz-oruro-2023-05-10"
TITLE_B = "Bloqueo minero en la carretera a Oruro"


def write_versions(directory: Path) -> dict[str, Path]:
    """Version A (the fixture) and B (statement dropped, event retitled), with the article."""
    bundle = yaml.safe_load(BUNDLE.read_text(encoding="utf-8"))
    bundle["statements"] = []
    bundle["actors"] = [actor for actor in bundle["actors"] if actor["id"] != "reuters"]
    bundle["events"][0]["title"] = TITLE_B
    for name in ("a", "b"):
        (directory / name).mkdir()
        shutil.copy(BUNDLE.parent / bundle["source"]["document"], directory / name)
    shutil.copy(BUNDLE, directory / "a" / BUNDLE.name)
    (directory / "b" / BUNDLE.name).write_text(
        yaml.safe_dump(bundle, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return {"A": directory / "a" / BUNDLE.name, "B": directory / "b" / BUNDLE.name}


def importer(url: str, imports: int, order: list[str], files: dict, queue) -> None:
    """One importer process: `imports` loads, alternating in `order`; reports each one."""
    from api.ingest import load_files
    from api.store.db import bind

    bind(url)
    for n in range(imports):
        version = order[n % 2]
        try:
            load_files([files[version]])
            queue.put((time.monotonic(), version, None))
        except Exception as error:  # reported, not hidden
            queue.put((time.monotonic(), version, f"{type(error).__name__}: {error}"[:200]))


def final_state(url: str) -> dict:
    """What the database holds now: the version it matches, and whether search is in step."""
    from api.store.db import bind, database
    from api.store.models import Event, SearchDocument, Statement

    bind(url)
    with database.connection_context():
        event = Event.get(Event.slug == EVENT_ID)
        statement = Statement.get_or_none(Statement.slug == STATEMENT_ID)
        doc = SearchDocument.get(
            (SearchDocument.record_type == "event") & (SearchDocument.record_id == event.id)
        )
        statement_docs = (
            SearchDocument.select().where(SearchDocument.record_type == "statement").count()
        )
        statements = Statement.select().count()
    if event.title == TITLE_B and statement is None:
        version = "B"
    elif event.title != TITLE_B and statement is not None:
        version = "A"
    else:
        version = "a mixture of A and B"
    return {
        "version": version,
        "search_in_step": doc.title == event.title and statement_docs == statements,
    }


def reset(url: str) -> None:
    from api.store.db import bind
    from api.store.ddl import create_schema, drop_schema

    bind(url)
    drop_schema()
    create_schema()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--importers", type=int, default=4)
    parser.add_argument("--imports", type=int, default=20)
    args = parser.parse_args(argv)
    reset(args.database_url)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    with tempfile.TemporaryDirectory() as directory:
        files = {k: str(v) for k, v in write_versions(Path(directory)).items()}
        started = time.monotonic()
        processes = [
            context.Process(
                target=importer,
                args=(
                    args.database_url,
                    args.imports,
                    ["A", "B"] if n % 2 else ["B", "A"],
                    files,
                    queue,
                ),
            )
            for n in range(args.importers)
        ]
        for process in processes:
            process.start()
        results = [queue.get(timeout=600) for _ in range(args.importers * args.imports)]
        for process in processes:
            process.join()
        elapsed = time.monotonic() - started
    errors = [r for r in results if r[2]]
    committed = sorted(r for r in results if not r[2])
    state = final_state(args.database_url)
    expected = committed[-1][1] if committed else None
    print(
        f"{args.importers} importers x {args.imports} imports on {args.database_url.split(':')[0]}"
    )
    print(
        f"  {len(committed)} committed, {len(errors)} failed, in {elapsed:.1f} s "
        f"({len(results) / elapsed:.1f} imports/s, each process's startup included)"
    )
    for error in errors[:5]:
        print(f"  failed: {error[2]}")
    print(
        f"  last committed: {expected}; final state: {state['version']}; "
        f"search in step: {state['search_in_step']}"
    )
    ok = not errors and state["version"] == expected and state["search_in_step"]
    print("  OK" if ok else "  NOT OK")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
