"""The query layer: every query the service runs against the models, peewee only.

One module per collection (events, statements, actors, relations, locations, sources) on the
shared engine of `collection` (filters in `filters`, batch loading in `loading`, keyset
`paging`, `fulltext`), and one per analyst view (timeline, network, search, facets). Nothing
here knows about Flask, requests or HTTP schemas; errors are the domain errors of `errors`.
"""
