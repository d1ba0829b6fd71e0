"""Services: plain async functions over a unit of work (``Tx``) or a read connection
(no FastAPI here)."""
