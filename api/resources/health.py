"""`/healthz`: is the service up, and does its database answer?"""

import peewee as pw
from flask.views import MethodView
from flask_smorest import abort

from api.base import Blueprint, problem_doc
from api.db import database, is_postgres
from schemas.records import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and database health.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, **problem_doc("The database does not answer."))
    def get(self):
        """Health

        200 when the database answers a query; else 503, a problem saying why.
        """
        try:
            database.execute_sql("SELECT 1").fetchone()
        except pw.DatabaseError as error:
            abort(503, message=f"The database does not answer: {error}")
        return {
            "status": "ok",
            "database": "ok",
            "backend": "postgresql" if is_postgres() else "sqlite",
        }
