"""loom.engine: a durable DAG pipeline service (FastAPI + SQLAlchemy 2 async).

Start it with ``loom serve``; build the ASGI app with :func:`loom.engine.app.create_app`.
"""
