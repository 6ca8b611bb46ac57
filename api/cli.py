"""The `briefing` command: `briefing seed | db upgrade | keys | release | serve | openapi write`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from api.app import create_app
from api.http.spec import openapi_command


@click.command("seed")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Validate the files without loading them.")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no source yet.")
@click.option(
    "--synthetic",
    type=click.IntRange(min=1),
    metavar="N",
    help="Instead of briefing files, load a synthetic corpus of about N events, 2N statements, "
    "N/10 actors and N/20 locations (ids prefixed syn-; for benchmarks). Skipped when the same "
    "corpus is already loaded; replaces a different one.",
)
@click.option(
    "--synthetic-seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed of --synthetic: the same N and seed give the same rows.",
)
@with_appcontext
def seed_command(
    paths: tuple[Path, ...],
    check: bool,
    if_empty: bool,
    synthetic: int | None,
    synthetic_seed: int,
) -> None:
    """Validate and load briefing files (default: every file in seed/briefings/).

    Each file is a bundle (seed/README.md) with its article beside it (`source.document`).
    Loading a file again replaces what its source contributed. Every problem of every file is
    reported, and a file with any problem is refused whole (exit status 1).
    """
    from api.ingest import SeedError, default_files, load_files, validate_files
    from api.store.migrations import upgrade

    upgrade()
    if synthetic is not None:
        from api.synthetic import seed_synthetic

        if paths or check or if_empty:
            raise click.UsageError("--synthetic takes no files, --check or --if-empty.")
        click.echo(seed_synthetic(synthetic, synthetic_seed).describe())
        return
    files = list(paths) or default_files()
    try:
        if check:
            validate_files(files)
            click.echo(f"ok: {len(files)} file(s) valid: " + ", ".join(p.name for p in files))
            return
        report = load_files(files, if_empty=if_empty)
    except SeedError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"refused: {len(error.problems)} problem(s); nothing was loaded", err=True)
        sys.exit(1)
    if report.skipped:
        click.echo("database already seeded; nothing to do")
        return
    counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
    click.echo(f"loaded {', '.join(report.files)}: {counts}; {report.changed} row(s) changed")


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade_command() -> None:
    """Create the schema, or migrate it to this release's version (safe to run concurrently);
    then render the event records left stale (more than one write renders, or written around
    the service)."""
    from api.queries.events import EVENT_JSON
    from api.store.db import database
    from api.store.ddl import exclusive, fulltext_configuration
    from api.store.migrations import upgrade

    before, after = upgrade()
    if before is None:
        click.echo(f"created the schema at version {after}")
    elif before == after:
        click.echo(f"schema at version {after}: up to date")
    else:
        click.echo(f"upgraded the schema from version {before} to {after}")
    # no new data version: a stale record is served rendered already, the same bytes
    with database.connection_context(), exclusive(bump=False):
        rendered = EVENT_JSON.refresh(at_most=None)
    if rendered:
        click.echo(f"rendered {rendered} stale event record(s)")
    with database.connection_context():
        click.echo(f"full text: {fulltext_configuration()}")


@click.group("keys")
def keys_group() -> None:
    """API keys for writes (`Authorization: Bearer KEY`)."""


@keys_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(["read", "write", "admin"]),
    default="write",
    show_default=True,
    help="admin implies write implies read.",
)
@with_appcontext
def keys_create_command(name: str, scope: str) -> None:
    """Create a key; it is printed once, on the last line (only a hash is stored)."""
    from api.http.auth import KeyProblem, create_key
    from api.store.migrations import upgrade

    upgrade()
    try:
        key = create_key(name, scope)
    except KeyProblem as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created key {name!r} with scope {scope}; store it now, it is not shown again:")
    click.echo(key)


@keys_group.command("list")
@with_appcontext
def keys_list_command() -> None:
    """Every key: name, public prefix, scope, created, revoked."""
    from api.http.auth import list_keys
    from api.store.migrations import upgrade

    upgrade()
    for key in list_keys():
        revoked = f"revoked {key['revoked_at']:%Y-%m-%d %H:%M}" if key["revoked_at"] else "active"
        created = f"{key['created_at']:%Y-%m-%d %H:%M}"
        click.echo(f"{key['name']}\t{key['prefix']}\t{key['scope']}\t{created}\t{revoked}")


@keys_group.command("revoke")
@click.argument("name")
@with_appcontext
def keys_revoke_command(name: str) -> None:
    """Revoke a key: every worker refuses it from its next request."""
    from api.http.auth import KeyProblem, revoke_key
    from api.store.migrations import upgrade

    upgrade()
    try:
        revoke_key(name)
    except KeyProblem as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"revoked key {name!r}")


@click.group("release")
def release_group() -> None:
    """Releases: named, immutable versions of the data (served under /releases/{name}/v1/)."""


@release_group.command("create")
@click.argument("name")
@click.option("--description", help="What the release is for.")
@with_appcontext
def release_create_command(name: str, description: str | None) -> None:
    """Name the data as it stands now: snapshot it and write its downloads."""
    from flask import current_app

    from api.http import release_files
    from api.ingest.releases import ReleaseProblem, create
    from api.store.migrations import upgrade

    upgrade()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        release = create(name, description, "cli", lambda made: release_files.build(app, made))
    except ReleaseProblem as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"made release {release.name!r} at seq {release.seq}: {release.counts}")


@release_group.command("list")
@with_appcontext
def release_list_command() -> None:
    """Every release (newest first): name, seq, created, by, counts."""
    from api.queries.releases import every
    from api.store.db import database
    from api.store.migrations import upgrade

    upgrade()
    with database.connection_context():
        for release in every():
            created = f"{release.created_at:%Y-%m-%d %H:%M}"
            line = [release.name, str(release.seq), created, release.created_by, release.counts]
            click.echo("\t".join(line))


@release_group.command("delete")
@click.argument("name")
@with_appcontext
def release_delete_command(name: str) -> None:
    """Delete an older release (not the latest): its snapshot and files; its name stays taken."""
    from api.ingest.releases import ReleaseProblem, delete
    from api.store.migrations import upgrade

    upgrade()
    try:
        delete(name, "cli")
    except ReleaseProblem as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"deleted release {name!r}")


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="HOST")
@click.option("--port", default=lambda: os.environ.get("PORT", "8000"), show_default="PORT")
@click.option("--workers", default=lambda: os.environ.get("WORKERS", "2"), show_default="WORKERS")
@click.option(
    "--worker-connections",
    default=lambda: os.environ.get("WORKER_CONNECTIONS", "1000"),
    show_default="WORKER_CONNECTIONS",
)
def serve_command(host: str, port: str, workers: str, worker_connections: str) -> None:
    """Serve with gunicorn, configured by api/gunicorn_conf.py (what `make run` does)."""
    os.environ.update(
        HOST=host, PORT=str(port), WORKERS=str(workers), WORKER_CONNECTIONS=str(worker_connections)
    )
    config = ["--config", "python:api.gunicorn_conf"]
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *config, "api.app:create_app()"])


def create_cli_app():
    """The app of the commands: bound to DATABASE_URL, schema untouched until a command
    (`db upgrade`, `seed`, `keys`) upgrades it under the write lock."""
    return create_app({"SCHEMA_UPGRADE": False})


cli = FlaskGroup(create_app=create_cli_app, add_default_commands=False, help=__doc__)
cli.add_command(seed_command)
cli.add_command(serve_command)
cli.add_command(db_group)
cli.add_command(keys_group)
cli.add_command(release_group)
cli.add_command(openapi_command)


def main() -> None:
    """Entry point of the `briefing` console script."""
    cli(prog_name="briefing")
