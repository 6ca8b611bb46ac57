"""`/v1/vocabularies`: every controlled vocabulary, each code with its meaning."""

from flask.views import MethodView

from api.http.base import Blueprint
from api.http.formats import json_only
from schemas import vocabularies as vocab
from schemas.arguments import NoArgs
from schemas.examples import VOCABULARIES_EXAMPLE
from schemas.views import VocabulariesSchema

blp = Blueprint(
    "vocabularies",
    __name__,
    url_prefix="/v1/vocabularies",
    description="The controlled vocabularies behind every coded field.",
)


def entries(name: str, codes: dict[str, str]) -> list[dict]:
    if name == "event_sub_types":
        return [
            {"code": code, "meaning": meaning, "type": vocab.EVENT_SUB_TYPES[code][0]}
            for code, meaning in codes.items()
        ]
    if name == "identifier_schemes":
        return [
            {
                "code": code,
                "meaning": scheme.meaning,
                "record_types": list(scheme.record_types),
                "pattern": scheme.pattern,
                "example": scheme.example,
                "url_template": scheme.url_template,
            }
            for code, scheme in vocab.IDENTIFIER_SCHEMES.items()
        ]
    return [{"code": code, "meaning": meaning} for code, meaning in codes.items()]


@blp.route("")
class Vocabularies(MethodView):
    @blp.arguments(NoArgs(), location="query", as_kwargs=False)
    @blp.response(200, VocabulariesSchema, example=VOCABULARIES_EXAMPLE)
    def get(self, args: dict):
        """List the controlled vocabularies

        Every coded field's vocabulary (actor kinds, location kinds, event types and
        sub-types, participant roles, relation predicates, statement channels, date and
        coordinate precisions, identifier schemes) as `{name: [{code, meaning}]}`; event
        sub-types also carry their event `type`, identifier schemes the records they apply
        to, their values' format and the URL template of a value's page (`{value}`).
        These are the values the filters accept and the records use.
        """
        json_only()
        return {name: entries(name, codes) for name, codes in vocab.all_vocabularies().items()}
