"""`/v1/statements`: who said what, to whom, when and through which channel."""

from api.http.resources.collection import collection_blueprint
from api.queries.statements import STATEMENTS
from schemas.arguments import StatementListArgs

blp = collection_blueprint(
    STATEMENTS,
    StatementListArgs,
    description="Quotes (verbatim) and reported speech, with speakers, addressees and channel.",
    list_summary="List statements",
    list_description="Statements, oldest first by default. `speaker`, `addressed_to` and "
    "`actor` take actor ids; `verbatim=true` keeps direct quotes only.",
    collection_example="kataib-hezbollah-2020-04-02-leave-iraq",
)
