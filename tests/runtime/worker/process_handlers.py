"""Module-level handlers for the process-pool strategy (they must pickle by reference)."""

from __future__ import annotations

import os

import pydantic

from loom.runtime.worker import BusinessError


class Numbers(pydantic.BaseModel):
    values: list[int]


def total(numbers: Numbers) -> dict[str, int]:
    """Sums in another process and says which."""
    return {"total": sum(numbers.values), "pid": os.getpid()}


def refuse(variables: dict[str, object]) -> None:
    """A business error raised in a pool process crosses back intact."""
    raise BusinessError("REFUSED", "not in this process", {"where": "pool"})
