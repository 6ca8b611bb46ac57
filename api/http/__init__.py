"""HTTP: the app's plumbing (errors, formats, caching, security, limits, keys) and its
resources, one blueprint per collection or view."""
