"""Fixtures for runtime tests: loopback servers started and stopped per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from .loopback import LoopbackServer, Script, TokenServer


@pytest.fixture
def serve() -> Iterator[Callable[[Script], LoopbackServer]]:
    """Start loopback servers with scripts; all are stopped after the test."""
    servers: list[LoopbackServer] = []

    def start(script: Script) -> LoopbackServer:
        server = LoopbackServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    """An OAuth token endpoint that also serves a protected API under /api."""
    server = TokenServer()
    server.server.start()
    yield server
    server.server.stop()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:  # pyright: ignore[reportUnusedFunction]
    """No TESTSDK_/CAMUNDA_ variable of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith(("TESTSDK_", "CAMUNDA_", "ZEEBE_")):
            monkeypatch.delenv(key)
