"""`/v1/keys` (admin): API keys over HTTP, through the code `briefing keys` uses
(api/http/keys.py): create (the secret shown once), list, get, revoke, rotate with a grace."""

from __future__ import annotations

from typing import NoReturn

from flask.views import MethodView

from api.http import keys
from api.http.auth import require, security
from api.http.base import NO_KEY_DOC, Blueprint, problem_doc, problem_example
from api.http.errors import abort
from schemas.keys import IssuedKeySchema, KeyCreateSchema, KeyRotateSchema, KeySchema

blp = Blueprint(
    "keys",
    __name__,
    url_prefix="/v1/keys",
    description="API keys (admin): who may write, for which owner, until when.",
)
NAME = {
    "in": "path",
    "name": "name",
    "example": "partner-a-ci",
    "description": "Name of the key.",
}
NO_STORE = {"Cache-Control": "no-store"}  # keys are never kept by a cache on the way
DOCS = {
    401: NO_KEY_DOC,
    403: problem_doc("The key lacks the `admin` scope."),
    404: problem_doc("No key (for revoke and rotate: no active key) has that name."),
}


def fail(error: keys.KeyProblem) -> NoReturn:
    """A refused key operation as its problem."""
    if isinstance(error, keys.UnknownKey):
        abort(404, message=str(error))
    if isinstance(error, keys.KeyExists):
        abort(409, message=str(error))
    abort(422, message=str(error), errors=[{"path": "", "message": str(error)}])


@blp.route("")
class Keys(MethodView):
    @require("admin")
    @blp.response(200, KeySchema(many=True), description="Every key, by name.")
    @blp.alt_response(401, **DOCS[401])
    @blp.alt_response(403, **DOCS[403])
    @blp.doc(
        summary="List API keys",
        operationId="listKeys",
        description="Every key: name, public prefix, owner, scope, state, when it was made, "
        "expires, was last used and revoked. Never a secret or a hash. Needs an `admin` key.",
        **security("admin"),
    )
    def get(self):
        return keys.list_keys(), 200, NO_STORE

    @require("admin")
    @blp.arguments(KeyCreateSchema, location="json")
    @blp.response(
        201,
        IssuedKeySchema,
        description="Created; `key` is shown this once.",
        headers={
            "Location": {
                "description": "The new key: /v1/keys/{name}.",
                "schema": {"type": "string"},
            }
        },
    )
    @blp.alt_response(401, **DOCS[401])
    @blp.alt_response(403, **DOCS[403])
    @blp.alt_response(409, **problem_doc("A key of that name exists already."))
    @blp.alt_response(
        422,
        **problem_doc(
            "The body is not a valid key (each problem in `errors`), or its expiry has passed.",
            problem_example(
                422,
                "/v1/keys",
                "Invalid request. owner: Missing data for required field.",
                "owner",
                "Missing data for required field.",
            ),
        ),
    )
    @blp.doc(
        summary="Create an API key",
        description="A new key for an owner (a team or organisation): a `write` key may "
        "change only the sources its owner imported and the records they support; an "
        "`admin` key anything. The secret is in `key`, shown once: only its argon2 hash is "
        "stored. Needs an `admin` key.",
        **security("admin"),
    )
    def post(self, body: dict):
        try:
            secret = keys.create_key(body["name"], body["scope"], body["owner"], body["expires_at"])
        except keys.KeyProblem as error:
            fail(error)
        issued = keys.get_key(body["name"]) | {"key": secret}
        return issued, 201, {"Location": f"/v1/keys/{body['name']}", **NO_STORE}


@blp.route("/<string:name>", parameters=[NAME])
class Key(MethodView):
    @require("admin")
    @blp.response(200, KeySchema, description="The key (never its secret).")
    @blp.alt_response(401, **DOCS[401])
    @blp.alt_response(403, **DOCS[403])
    @blp.alt_response(404, **DOCS[404])
    @blp.doc(
        summary="Get an API key",
        description="One key as the list shows it: never its secret or a hash. Needs an "
        "`admin` key.",
        **security("admin"),
    )
    def get(self, name: str):
        try:
            return keys.get_key(name), 200, NO_STORE
        except keys.KeyProblem as error:
            fail(error)

    @require("admin")
    @blp.response(200, KeySchema, description="Revoked: refused from the next request on.")
    @blp.alt_response(401, **DOCS[401])
    @blp.alt_response(403, **DOCS[403])
    @blp.alt_response(404, **DOCS[404])
    @blp.doc(
        summary="Revoke an API key",
        operationId="revokeKey",
        description="Every worker refuses the key from its next request (each request reads "
        "the key's row). The key stays listed, `state: revoked`. Needs an `admin` key.",
        **security("admin"),
    )
    def delete(self, name: str):
        try:
            return keys.revoke_key(name), 200, NO_STORE
        except keys.KeyProblem as error:
            fail(error)


@blp.route("/<string:name>/rotate", parameters=[NAME])
class KeyRotation(MethodView):
    @require("admin")
    @blp.arguments(KeyRotateSchema, location="json")
    @blp.response(200, IssuedKeySchema, description="Rotated; the new `key` is shown this once.")
    @blp.alt_response(401, **DOCS[401])
    @blp.alt_response(403, **DOCS[403])
    @blp.alt_response(404, **DOCS[404])
    @blp.alt_response(422, **problem_doc("The grace period is not 0 to 30 days."))
    @blp.doc(
        summary="Rotate an API key",
        operationId="rotateKey",
        description="A new secret for the key (same name, prefix, owner and scope), in `key`, "
        "shown once. The previous secret still opens the key for `grace_seconds` (default a "
        "day; `previous_secret_until` says until when), so that its clients move over without "
        "downtime; a secret from before that stops at once. Needs an `admin` key.",
        **security("admin"),
    )
    def post(self, body: dict, name: str):
        try:
            secret, described = keys.rotate_key(name, body["grace_seconds"])
        except keys.KeyProblem as error:
            fail(error)
        return described | {"key": secret}, 200, NO_STORE
