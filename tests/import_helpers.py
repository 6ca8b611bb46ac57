"""Helpers of the import tests: the invented briefings of tests/fixtures/import/, variants of
them written to a temporary directory, the CLI, and leaving the session database as found."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

FIXTURES = Path(__file__).parent / "fixtures" / "import"
ANDES = FIXTURES / "andes.yaml"  # Spanish, Bolivia; shares `reuters` with the seed
BALTIC = FIXTURES / "baltic.yaml"  # English, Sweden; shares `reuters` too
ANDES_ID = "test-andes-2023-05-12-bloqueo-oruro"
BALTIC_ID = "test-baltic-2024-02-03-gotland-cable"


def load_raw(path: Path) -> dict:
    from api.ingest.read import parse_yaml

    return parse_yaml(path.read_text(encoding="utf-8"))


def with_text(path: Path) -> dict:
    """The bundle with its article inline as `source.text` (what the API takes)."""
    bundle = load_raw(path)
    document = bundle["source"].pop("document")
    bundle["source"]["text"] = (path.parent / document).read_text(encoding="utf-8")
    return bundle


def variant(tmp_path: Path, path: Path, change: Callable[[dict], None], name: str = "") -> Path:
    """A copy of a fixture bundle (and its article) in tmp_path, changed by `change`."""
    bundle = copy.deepcopy(load_raw(path))
    document = bundle["source"].get("document")  # the article goes along, as it is
    if document and path.parent != tmp_path:
        shutil.copy(path.parent / document, tmp_path / document)
    change(bundle)
    target = tmp_path / (name or path.name)
    target.write_text(yaml.safe_dump(bundle, allow_unicode=True, sort_keys=False), "utf-8")
    return target


def text_variant(tmp_path: Path, path: Path, old: str, new: str) -> Path:
    """A copy whose YAML text has `old` replaced once by `new` (for what YAML itself parses)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    target = tmp_path / path.name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    document = load_raw(path)["source"]["document"]
    shutil.copy(path.parent / document, tmp_path / document)
    return target


def seed_cli(monkeypatch, database_url: str, *args: str) -> Result:
    """`briefing seed ARGS` against the session database."""
    from api.cli import cli

    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner().invoke(cli, ["seed", *[str(a) for a in args]])


def remove_test_sources(app) -> None:
    """Remove every source the import tests added (the seed stays as it was)."""
    from api.ingest import SeedError, delete_source
    from api.store.models import Source

    with app.app_context():
        from api.store.db import database

        with database.connection_context():
            slugs = [s for (s,) in Source.select(Source.slug).tuples() if s.startswith("test-")]
        while slugs:  # a source others still refer to goes after them
            left = len(slugs)
            for slug in list(slugs):
                try:
                    delete_source(slug)
                    slugs.remove(slug)
                except SeedError:
                    continue
            assert len(slugs) < left, f"cannot remove {slugs}"
