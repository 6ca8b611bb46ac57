"""`/healthz` (shallow: the process serves and its database answers `SELECT 1`) and `/readyz`
(deep: every table readable, the full-text index in step with its documents).

A load balancer routes traffic by `/readyz`. Failures are logged with their cause; the answers
carry none (no host, port, path or driver message), and a 503 carries `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.http.base import Blueprint, problem_doc
from api.http.errors import problem, retry_after, unavailable
from api.http.readiness import database_answers, readiness_checks, schema_version
from api.store.db import is_postgres
from schemas.records import HealthSchema, ReadinessSchema

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


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

        200 when the service can serve its data: the database answers, its schema is this
        release's, every table can be read, and the full-text index holds exactly the search
        documents. Else 503 with
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
            errors = [{"path": f"checks.{name}", "message": text} for name, text in failed.items()]
            return problem(503, detail, errors, headers=retry_after())
        return report
