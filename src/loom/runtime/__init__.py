"""loom.runtime: the hand-written code every generated SDK carries as ``_runtime``.

Relative imports only; needs only httpx and pydantic. See docs/runtime-contract.md for
what generated code may call.
"""
