"""`/v1/search`: one full-text query across every collection."""

from urllib.parse import urlencode

from flask import request
from flask.views import MethodView

from api.http.base import Blueprint
from api.http.formats import json_only
from api.queries.search import search_all
from api.records import SEARCHABLE
from schemas.arguments import SearchArgs
from schemas.examples import SEARCH_EXAMPLE
from schemas.views import SearchHitSchema

blp = Blueprint(
    "search",
    __name__,
    url_prefix="/v1/search",
    description="Full-text search across actors, events, statements, locations and sources.",
)

TOTAL_HEADER = {
    "X-Total-Count": {
        "description": "How many records match in all (the response holds the best `limit`).",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'RFC 8288 link to the next page of hits: `<url>; rel="next"`.',
        "schema": {"type": "string"},
    },
}


def search_headers(total: int, after: str | None) -> dict[str, str]:
    """`X-Total-Count`, and the `Link` to the next page when there is one."""
    headers = {"X-Total-Count": str(total)}
    if after:
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        query.append(("cursor", after))
        headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    return headers


@blp.route("")
class Search(MethodView):
    @blp.arguments(SearchArgs(), location="query", as_kwargs=False)
    @blp.response(200, SearchHitSchema(many=True), headers=TOTAL_HEADER, example=SEARCH_EXAMPLE)
    def get(self, args: dict):
        """Search every collection

        Actors (names, aliases in any script, titles, descriptions), events (titles and
        summaries), statements (text and context), locations (names and aliases) and sources
        (title, publisher, author) that match `q`, best first. Every word of `q` must match,
        as a prefix, ignoring case and diacritics; punctuation and search operators are
        treated as plain text, so any `q` is valid. Each hit says what it is
        (`record_type`), its id, title and `url`, and shows a short `snippet` around the
        match. `type` narrows the search to some collections. Paged like every list: the
        `Link` header's `rel="next"` cursor, and `X-Total-Count`.
        """
        json_only()
        types = list(dict.fromkeys(args.get("type") or [t.name for t in SEARCHABLE]))
        hits, total, after = search_all(args["q"], types, args["limit"], args.get("cursor"))
        return hits, 200, search_headers(total, after)
