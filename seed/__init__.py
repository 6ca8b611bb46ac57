"""Briefing data files (briefings/*.yaml) and the loader that validates and upserts them."""
