"""`/v1/locations`: countries, provinces, regions, cities, bases and facilities."""

from api.http.resources.collection import collection_blueprint
from api.queries.locations import LOCATIONS
from schemas.arguments import LocationListArgs

blp = collection_blueprint(
    LOCATIONS,
    LocationListArgs,
    description="Places in a hierarchy (base -> province -> country), with coordinates.",
    list_summary="List locations",
    list_description="Places by name. `within` walks the hierarchy; `bbox` and `near` are "
    "geographic.",
    collection_example="ain-al-asad-air-base",
)
