"""Imports at once, in separate processes, on both backends: serialised and atomic (the final
state is one whole bundle, the search index in step), and replicas starting together on an
empty database create the schema and load the seed exactly once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import peewee as pw

from tests.import_helpers import ANDES, ANDES_ID, variant
from tests.scratch import scratch_database

PYTHON = sys.executable
ROOT = Path(__file__).parents[2]
IMPORTER = """
import sys
from api.store.db import bind
from api.ingest import load_files
bind(sys.argv[1])
for n in range(int(sys.argv[2])):
    load_files([sys.argv[3 + n % 2]])
"""


def second_version(tmp_path: Path) -> Path:
    """The andes bundle edited: its statement dropped, the event retitled."""

    def edit(bundle):
        bundle["statements"] = []
        bundle["actors"] = [a for a in bundle["actors"] if a["id"] != "reuters"]
        bundle["events"][0]["title"] = "Bloqueo minero en la carretera a Oruro"

    (tmp_path / "v2").mkdir()
    return variant(tmp_path / "v2", ANDES, edit)


def exported(app_url: str) -> dict:
    from api.ingest import export_source
    from api.store.db import bind

    bind(app_url)
    return export_source(ANDES_ID)


def search_in_step() -> list[str]:
    """Records without their search document, or documents without their record."""
    from api.store.db import database

    wrong = []
    for table in ("actor", "location", "event", "statement", "source"):
        sql = (
            f"SELECT COUNT(*) FROM {table} t FULL OUTER JOIN "
            f"(SELECT * FROM search_document WHERE record_type = '{table}') d "
            "ON d.record_id = t.id WHERE d.id IS NULL OR t.id IS NULL"
        )
        with database.connection_context():
            try:
                count = database.execute_sql(sql).fetchone()[0]
            except pw.OperationalError:  # SQLite before 3.39 has no FULL OUTER JOIN
                count = database.execute_sql(
                    f"SELECT (SELECT COUNT(*) FROM {table}) - (SELECT COUNT(*) FROM "
                    f"search_document d JOIN {table} t ON t.id = d.record_id AND "
                    f"d.record_type = '{table}') + (SELECT COUNT(*) FROM search_document d "
                    f"WHERE d.record_type = '{table}' AND d.record_id NOT IN "
                    f"(SELECT id FROM {table}))"
                ).fetchone()[0]
        if count:
            wrong.append(table)
    return wrong


def test_concurrent_imports_end_in_one_whole_bundle(database_url, tmp_path, make_app):
    from api.ingest import load_files

    first, second = ANDES, second_version(tmp_path)
    with scratch_database(database_url, tmp_path, "race") as url:
        make_app(url)  # creates the schema
        processes = [
            subprocess.Popen(
                [PYTHON, "-c", IMPORTER, url, "4", str(a), str(b)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for a, b in ((first, second), (second, first), (first, second))
        ]
        outputs = [p.communicate(timeout=300)[0] for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], "\n".join(outputs)
        final = exported(url)
        assert search_in_step() == []
        load_files([first])
        whole_first = exported(url)
        load_files([second])
        whole_second = exported(url)
        assert final in (whole_first, whole_second)
        assert search_in_step() == []


def test_replicas_starting_together_load_the_seed_once(database_url, tmp_path, make_app):
    briefing = f"{PYTHON} -c 'from api.cli import main; main()'"
    serve_check = f"{PYTHON} -c 'from api.app import create_app; create_app()'"
    script = f"{briefing} db upgrade && {briefing} seed --if-empty && {serve_check}"
    with scratch_database(database_url, tmp_path, "replicas") as url:
        processes = [
            subprocess.Popen(
                ["sh", "-c", script],
                cwd=ROOT,
                env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=300)[0] for p in processes]
        assert [p.returncode for p in processes] == [0, 0, 0], "\n".join(outputs)
        joined = "\n".join(outputs)
        assert joined.count("loaded 000_") == 1, joined
        assert joined.count("already seeded") == 2, joined
        assert "Traceback" not in joined
        from api.ingest import default_files, read_bundle
        from api.store.db import bind, database
        from api.store.models import Event, Source

        bind(url)
        with database.connection_context():
            seeded = [read_bundle(path) for path in default_files()]
            assert Source.select().count() == len(seeded)
            assert Event.select().count() == sum(len(b["events"]) for b in seeded)
