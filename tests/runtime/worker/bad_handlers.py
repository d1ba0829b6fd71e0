"""A module whose handler has a wrong signature: ``loom worker`` must refuse it at start-up."""

from __future__ import annotations

from loom.runtime.worker import Router

router = Router()


@router.job("bad")
async def bad(variables: dict[str, object], extra: int) -> None:
    """Two parameters that need values: only the variables and the context have one."""
