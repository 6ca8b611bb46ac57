"""Briefing data files (briefings/*.yaml, each with its article); loaded by api/ingest.py."""
