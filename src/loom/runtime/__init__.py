"""loom.runtime: the hand-written code every generated SDK carries as ``_runtime``.

Relative imports only; needs only httpx and pydantic. See docs/runtime-contract.md for
what generated code may call, and docs/runtime.md for behaviour and settings. Nothing here is
imported eagerly: import the submodule you need (``from ._runtime.client import SyncAPIClient``).
"""
