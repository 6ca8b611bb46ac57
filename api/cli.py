"""The `briefing` command: `briefing seed | db upgrade | keys | owners | release | serve | deliver |
openapi write`."""

from __future__ import annotations

import datetime as dt
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
    "--owner",
    default="default",
    show_default=True,
    help="The owner new sources belong to (the command line acts as an admin: it may "
    "re-import any source, which keeps its owner).",
)
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
    owner: str,
    synthetic: int | None,
    synthetic_seed: int,
) -> None:
    """Validate and load briefing files (default: every file in seed/briefings/).

    Each file is a bundle (seed/README.md) with its article beside it (`source.document`).
    Loading a file again replaces what its source contributed. Every problem of every file is
    reported, and a file with any problem is refused whole (exit status 1).
    """
    from api.http.keys import NAME, NAME_RULE
    from api.ingest import Principal, SeedError, default_files, load_files, validate_files
    from api.store.migrations import upgrade

    if not NAME.fullmatch(owner):
        raise click.BadParameter(f"an owner is {NAME_RULE}", param_hint="--owner")
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
        report = load_files(files, if_empty=if_empty, by=Principal("cli", owner, admin=True))
    except SeedError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"refused: {len(error.problems)} problem(s); nothing was loaded", err=True)
        sys.exit(1)
    if report.skipped:
        click.echo("database already seeded; nothing to do")
        return
    from api.queries import stix_kept
    from api.store.db import database

    with database.connection_context():
        stix_kept.settle()  # the objects that copy from what it changed (a reader renders
        # them on the spot until then)
    counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
    click.echo(f"loaded {', '.join(report.files)}: {counts}; {report.changed} row(s) changed")


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade_command() -> None:
    """Create the schema, or migrate it to this release's version (safe to run concurrently);
    then render the event records and STIX objects left stale (more than one write renders,
    written around the service, or new in this version)."""
    from api.queries import stix_kept
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
    with database.connection_context(), exclusive(bump=False):
        rendered = stix_kept.refresh(at_most=None)
    with database.connection_context():
        rendered += stix_kept.settle()
    if rendered:
        click.echo(f"rendered {rendered} stale STIX object(s)")
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
@click.option(
    "--owner",
    default="default",
    show_default=True,
    help="The team or organisation the key acts for: it may change only the sources (and "
    "their records) this owner imported, unless it is an admin key.",
)
@click.option(
    "--expires-at",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    default=None,
    help="When the key stops working (UTC); default: never.",
)
@with_appcontext
def keys_create_command(name: str, scope: str, owner: str, expires_at: dt.datetime | None) -> None:
    """Create a key; it is printed once, on the last line (only a hash is stored)."""
    from api.http.keys import KeyProblem, create_key
    from api.store.migrations import upgrade

    upgrade()
    try:
        key = create_key(name, scope, owner, expires_at)
    except KeyProblem as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"created key {name!r} of owner {owner!r} with scope {scope}; store it now, it is not "
        "shown again:"
    )
    click.echo(key)


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


@keys_group.command("list")
@with_appcontext
def keys_list_command() -> None:
    """Every key: name, public prefix, owner, scope, state, created, expires, last used."""
    from api.http.keys import list_keys
    from api.store.migrations import upgrade

    upgrade()
    click.echo("name\tprefix\towner\tscope\tstate\tcreated\texpires\tlast used")
    for key in list_keys():
        state = key["state"]
        if key["revoked_at"]:
            state = f"revoked {_when(key['revoked_at'])}"
        columns = [key["name"], key["prefix"], key["owner"], key["scope"], state]
        columns += [_when(key[name]) for name in ("created_at", "expires_at", "last_used_at")]
        click.echo("\t".join(columns))


@keys_group.command("revoke")
@click.argument("name")
@with_appcontext
def keys_revoke_command(name: str) -> None:
    """Revoke a key: every worker refuses it from its next request."""
    from api.http.keys import KeyProblem, revoke_key
    from api.store.migrations import upgrade

    upgrade()
    try:
        revoke_key(name)
    except KeyProblem as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"revoked key {name!r}")


@keys_group.command("rotate")
@click.argument("name")
@click.option(
    "--grace",
    type=click.IntRange(0, 30 * 24 * 3600),
    default=24 * 3600,
    show_default=True,
    help="Seconds the previous secret still opens the key (0: it stops at once).",
)
@with_appcontext
def keys_rotate_command(name: str, grace: int) -> None:
    """A new secret for a key (same name, owner and scope), printed once on the last line;
    the previous one keeps working for --grace seconds, so its clients can move over."""
    from api.http.keys import KeyProblem, rotate_key
    from api.store.migrations import upgrade

    upgrade()
    try:
        key, described = rotate_key(name, grace)
    except KeyProblem as error:
        raise click.ClickException(str(error)) from error
    until = described["previous_secret_until"]
    click.echo(
        f"rotated key {name!r}; the previous secret works until {_when(until)} UTC; store "
        "the new one now, it is not shown again:"
    )
    click.echo(key)


@click.group("owners")
def owners_group() -> None:
    """Owners: the teams or organisations keys act for and sources belong to."""


@owners_group.command("list")
@with_appcontext
def owners_list_command() -> None:
    """Every owner, with its sources and active keys."""
    from api.ingest.owners import owners_summary
    from api.store.migrations import upgrade

    upgrade()
    click.echo("owner\tsources\tkeys")
    for row in owners_summary():
        click.echo(f"{row['owner']}\t{row['sources']}\t{row['keys']}")


@owners_group.command("assign")
@click.argument("owner")
@click.argument("sources", nargs=-1, required=True)
@with_appcontext
def owners_assign_command(owner: str, sources: tuple[str, ...]) -> None:
    """Give sources (by id) to OWNER: from now on only its keys (and admin keys) may import
    them again, remove them or curate the records only they support. Journaled."""
    from api.http.keys import NAME, NAME_RULE
    from api.ingest.owners import assign_sources
    from api.store.migrations import upgrade

    if not NAME.fullmatch(owner):
        raise click.BadParameter(f"an owner is {NAME_RULE}", param_hint="OWNER")
    upgrade()
    try:
        moved = assign_sources(owner, list(sources))
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{len(moved)} source(s) now belong to {owner!r}: {', '.join(moved) or '-'}")


@click.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def deliver_command(once: bool) -> None:
    """Deliver webhooks: claim subscriptions with pending changes and POST them, signed, in
    order (api/push/worker.py). Run one per host or more (PostgreSQL: they share the work;
    SQLite: one). SIGTERM or Ctrl-C: finish the deliveries in flight, then exit."""
    import signal

    from flask import current_app

    from api.push import PushSettings
    from api.push.targets import resolve
    from api.push.worker import Worker
    from api.store.migrations import upgrade

    upgrade()
    settings = PushSettings.from_config(current_app.config)
    worker = Worker(settings, current_app.config.get("WEBHOOK_RESOLVER") or resolve)
    if once:
        worker.drain(timeout=float("inf"))
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    click.echo(f"delivering webhooks ({settings.concurrency} at once); worker {worker.name}")
    worker.run()


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


@release_group.command("gc")
@with_appcontext
def release_gc_command() -> None:
    """Delete the snapshots and download folders no release names (left by a creation killed
    midway); `release create` does so too before it makes one."""
    from api.ingest.releases import collect
    from api.store.migrations import upgrade

    upgrade()
    removed = collect()
    click.echo(f"removed {len(removed)} orphan snapshot(s)" + "".join(f"\n{s}" for s in removed))


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
cli.add_command(deliver_command)
cli.add_command(db_group)
cli.add_command(keys_group)
cli.add_command(owners_group)


cli.add_command(release_group)
cli.add_command(openapi_command)


def main() -> None:
    """Entry point of the `briefing` console script."""
    cli(prog_name="briefing")
