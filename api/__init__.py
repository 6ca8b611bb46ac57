"""briefing-api: structured briefing data over a REST API.

The app factory is `api.app.create_app`; the layers are the folders (README, Layout)."""
