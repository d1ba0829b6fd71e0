"""Handlers that ``loom worker`` runs in the CLI tests (a subprocess imports this module)."""

from __future__ import annotations

import asyncio
from typing import Any

from loom.runtime.worker import JobContext, Router

router = Router()


@router.job("cli-echo")
async def echo(variables: dict[str, Any]) -> dict[str, Any]:
    """Completes at once."""
    return {"echoed": variables.get("value")}


@router.job("cli-slow", lease_seconds=60)
async def slow(ctx: JobContext) -> None:
    """Outlives any drain timeout the tests use."""
    await asyncio.sleep(60)


@router.job("cli-hang", lease_seconds=1.0)
async def hang(ctx: JobContext) -> None:
    """Never finishes and never beats: only a lease expiry frees its job."""
    await asyncio.Event().wait()
