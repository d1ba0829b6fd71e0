"""Base classes of the ``paths`` layout: one object per path segment.

``client.nodes("pve1").qemu(100).status.start.post()``: each literal segment is an attribute,
each ``{variable}`` segment a call; the object at the end of a path has one method per HTTP
verb. A node holds the client and the values of the path variables met so far, in path order;
the generated methods hand them to the client's request loop with the operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncNode", "SyncNode"]


class SyncNode:
    """One path prefix of a synchronous client."""

    __slots__ = ("_client", "_values")

    def __init__(self, client: SyncAPIClient, values: tuple[object, ...] = ()) -> None:
        self._client = client
        self._values = values

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._values!r}>"


class AsyncNode:
    """One path prefix of an asyncio client."""

    __slots__ = ("_client", "_values")

    def __init__(self, client: AsyncAPIClient, values: tuple[object, ...] = ()) -> None:
        self._client = client
        self._values = values

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._values!r}>"
