"""The `briefing` command: `briefing seed`, `briefing serve`, `briefing openapi write`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from api import create_app


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
    """Validate and load briefing files (default: every file in seed/briefings/)."""
    from api.importer import SeedError, default_files, is_empty, load_files, validate_files

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
        if if_empty and not is_empty():
            click.echo("database already seeded; nothing to do")
            return
        report = load_files(files)
    except SeedError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"refused: {len(error.problems)} problem(s); nothing was loaded", err=True)
        sys.exit(1)
    counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
    click.echo(f"loaded {', '.join(report.files)}: {counts}; {report.changed} row(s) changed")


@click.command("serve")
@click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="HOST")
@click.option("--port", default=lambda: os.environ.get("PORT", "8000"), show_default="PORT")
@click.option("--workers", default=lambda: os.environ.get("WORKERS", "2"), show_default="WORKERS")
@click.option("--threads", default=lambda: os.environ.get("THREADS", "8"), show_default="THREADS")
def serve_command(host: str, port: str, workers: str, threads: str) -> None:
    """Serve with gunicorn, configured by api/gunicorn_conf.py (what `make run` does)."""
    os.environ.update(HOST=host, PORT=str(port), WORKERS=str(workers), THREADS=str(threads))
    config = ["--config", "python:api.gunicorn_conf"]
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", *config, "api:create_app()"])


cli = FlaskGroup(create_app=create_app, add_default_commands=False, help=__doc__)
cli.add_command(seed_command)
cli.add_command(serve_command)


def main() -> None:
    """Entry point of the `briefing` console script."""
    cli(prog_name="briefing")
