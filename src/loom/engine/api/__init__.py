"""The HTTP API (v1): thin FastAPI routes over :mod:`loom.engine.services`."""
