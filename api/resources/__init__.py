"""One blueprint per collection, registered in this order."""

from api.resources import actors, events, health, locations, sources, statements

MODULES = (events, statements, actors, locations, sources, health)
