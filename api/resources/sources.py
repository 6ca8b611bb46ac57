"""`/v1/sources`: the briefing documents records are extracted from."""

from api.queries.sources import SOURCES
from api.resources.collection import collection_blueprint
from schemas.arguments import SourceListArgs
from schemas.records import SourceSchema

blp = collection_blueprint(
    "sources",
    SOURCES,
    SourceSchema,
    SourceListArgs,
    description="Briefing documents; every record cites one with a verbatim excerpt.",
    list_summary="List sources",
    list_description="Sources, newest first by default.",
    collection_example="al-monitor-2020-04-07-us-iran-showdown-iraq",
)
