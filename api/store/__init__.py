"""The store: the connection, the data model, the schema's DDL and migrations, and the data
version every write bumps."""
