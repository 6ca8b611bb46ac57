"""`/healthz` (shallow: the process serves and its database answers `SELECT 1`) and `/readyz`
(deep: every table readable, the full-text index in step with its documents).

A load balancer routes traffic by `/readyz`. Failures are logged with their cause; the answers
carry none (no host, port, path or driver message), and a 503 carries `Retry-After`.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
import peewee as pw
from flask.views import MethodView

from api import ddl
from api.base import Blueprint, problem_doc
from api.db import database, is_postgres
from api.errors import problem, retry_after, unavailable
from api.models import MODELS, SearchDocument
from schemas.records import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")
log = logging.getLogger(__name__)


class ReadinessSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "`ok`: every check passed."})
    backend = ma.fields.String(metadata={"description": "`sqlite` or `postgresql`."})
    schema_version = ma.fields.Raw(
        allow_none=True,
        metadata={"description": "Version of the database schema, when it is versioned."},
    )
    checks = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={
            "description": "Each check and its outcome (`ok` or what is wrong): `database` "
            "(answers), `tables` (every table readable), `fulltext` (the index holds every "
            "search document)."
        },
    )


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, **problem_doc("The database does not answer; retry later."))
    def get(self):
        """Health

        Cheap liveness: 200 when the process serves and its database answers a query; else 503
        with `Retry-After`. Whether the data can be served is `/readyz`'s question.
        """
        if not database_answers():
            return unavailable()
        return {
            "status": "ok",
            "database": "ok",
            "backend": "postgresql" if is_postgres() else "sqlite",
        }


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(
        503, **problem_doc("Not ready: a check failed (`errors` names it); retry later.")
    )
    def get(self):
        """Readiness

        200 when the service can serve its data: the database answers, every table can be read,
        and the full-text index holds exactly the search documents. Else 503 with
        `Retry-After`, naming the failed checks (their causes go to the service log).
        """
        checks = readiness_checks()
        failed = {name: outcome for name, outcome in checks.items() if outcome != "ok"}
        report: dict[str, Any] = {
            "status": "ok" if not failed else "unavailable",
            "backend": "postgresql" if is_postgres() else "sqlite",
            "schema_version": schema_version() if not failed else None,
            "checks": checks,
        }
        if failed:
            detail = (
                "Not ready: "
                + "; ".join(f"{k}: {v}" for k, v in failed.items())
                + ". Retry after the number of seconds in Retry-After."
            )
            return problem(503, detail, {"checks": failed}, headers=retry_after())
        return report


def database_answers() -> bool:
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1").fetchone()
        return True
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Health: the database does not answer: %s", error)
        return False


def readiness_checks() -> dict[str, str]:
    """Each check's outcome, in order; a check after a failed connection is not run."""
    checks = {"database": "ok", "tables": "ok", "fulltext": "ok"}
    try:
        database.connect(reuse_if_open=True)
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Readiness: cannot connect: %s", error)
        return {"database": "unavailable", "tables": "not checked", "fulltext": "not checked"}
    try:
        unreadable = [model._meta.table_name for model in MODELS if not readable(model)]
        if unreadable:
            checks["tables"] = "unreadable: " + ", ".join(unreadable)
        checks["fulltext"] = fulltext_in_step()
    finally:
        database.close()
    return checks


def readable(model: type[pw.Model]) -> bool:
    """The table answers a count and gives back its first and last rows (its b-tree's root
    and both ends)."""
    try:
        model.select(pw.fn.COUNT(pw.SQL("*"))).scalar()
        model.select().order_by(model._meta.primary_key).limit(1).tuples().first()
        model.select().order_by(model._meta.primary_key.desc()).limit(1).tuples().first()
        return True
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Readiness: table %s unreadable: %s", model._meta.table_name, error)
        return False


def fulltext_in_step() -> str:
    """`ok` when the full-text index holds one entry per search document."""
    try:
        documents = SearchDocument.select().count()
        if is_postgres():
            # The GIN index of the schema on the search path, valid (not a failed build).
            sql = (
                "SELECT count(*) FROM pg_index "
                "WHERE indexrelid = to_regclass('search_document_tsv') AND indisvalid"
            )
            if database.execute_sql(sql).fetchone()[0] != 1:
                return "the full-text index is missing or invalid"
            indexed = SearchDocument.select().where(pw.SQL("tsv IS NOT NULL")).count()
        else:
            indexed = database.execute_sql("SELECT count(*) FROM search_fts_docsize").fetchone()[0]
    except (pw.DatabaseError, pw.InterfaceError) as error:
        log.error("Readiness: full-text index unreadable: %s", error)
        return "unreadable"
    if indexed != documents:
        log.error("Readiness: %s search documents, %s indexed", documents, indexed)
        return f"out of step ({indexed} of {documents} documents indexed)"
    return "ok"


def schema_version() -> Any:
    """The schema's version when api/ddl.py versions it (`schema_version()`), else None."""
    reader = getattr(ddl, "schema_version", None)
    if reader is None:
        return None
    try:
        return reader()
    except (pw.DatabaseError, pw.InterfaceError):
        return None
