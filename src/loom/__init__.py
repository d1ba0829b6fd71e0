"""loom: API schemas to typed, fast Python SDKs, and a durable DAG pipeline engine."""

__version__ = "0.1.0"
