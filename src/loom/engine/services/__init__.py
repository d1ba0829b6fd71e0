"""Services: plain async functions over an ``AsyncSession`` (no FastAPI here)."""
