"""Base classes of generated resources: they hold the client and nothing else.

Generated code defines ``Foo(SyncResource)`` / ``AsyncFoo(AsyncResource)`` with one method per
operation calling ``self._client.request(...)``, and ``FooWithRawResponse`` classes calling
``self._client.request_raw(...)``; sub-resources are ``cached_property`` with a lazy import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncResource", "SyncResource"]


class SyncResource:
    """A group of operations of a synchronous client."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncResource:
    """A group of operations of an asyncio client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client
