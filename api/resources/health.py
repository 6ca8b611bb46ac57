"""`/healthz`: is the service up, and does its database answer?"""

from flask.views import MethodView

from api.base import Blueprint
from api.db import database, is_postgres
from schemas.resources import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and database health.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database does not answer.")
    def get(self):
        """Health

        `ok` with 200 when the database answers a query, else 503 with the reason.
        """
        backend = "postgresql" if is_postgres() else "sqlite"
        try:
            database.execute_sql("SELECT 1").fetchone()
        except Exception as error:  # any driver error means unhealthy, not a 500
            return {"status": "unavailable", "database": str(error), "backend": backend}, 503
        return {"status": "ok", "database": "ok", "backend": backend}
