"""An ASGI app served by uvicorn in a thread on 127.0.0.1, which can be stopped and restarted.

A restart binds the same port again, so a worker that lost its connections reconnects to the
same address; the app object (and so the state it closes over) is kept.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn
from starlette.requests import Request

T = TypeVar("T")


def listening_socket(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:``port`` whose connections send without delay."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it (Linux): uvicorn writes headers and body separately, and
    # Nagle's algorithm with the client's delayed ACK would add 40 ms to every answer.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def server_config(app: Any) -> uvicorn.Config:
    """Quiet uvicorn settings for a fake."""
    return uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=1
    )


def serve_forever(app: Any, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` in this process until it is killed."""
    sock = listening_socket(port)
    asyncio.run(uvicorn.Server(server_config(app)).serve(sockets=[sock]))


class ThreadedServer:
    """``start()``, ``stop()``, ``restart()`` one uvicorn server for ``app``."""

    def __init__(self, app: Any, *, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Bind (the same port after a restart) and serve until ``stop()``."""
        sock = listening_socket(self.port)
        self.port = int(sock.getsockname()[1])
        server = uvicorn.Server(server_config(self.app))
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            daemon=True,
            name=f"uvicorn-{self.port}",
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and close open connections."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def restart(self, *, down_seconds: float = 0.0) -> None:
        """Stop, stay down for ``down_seconds``, start on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Wakeup:
    """What long-polls wait on: ``notify()`` wakes every waiting poll (call it on the server loop).

    ``reset()`` at the server's start binds a fresh event to that server's loop, so the state
    that owns it survives a restart.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def reset(self) -> None:
        """A new event for a new server loop."""
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake the waiting polls."""
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    async def wait(self) -> None:
        """Until the next ``notify()``."""
        if self._event is None:
            self.reset()
        assert self._event is not None
        await self._event.wait()


async def long_poll(
    request: Request,
    wakeup: Wakeup,
    *,
    timeout_seconds: float,
    take: Callable[[], list[T]],
    next_wake_seconds: Callable[[], float | None],
) -> list[T] | None:
    """``take()`` until it finds something or the time is up; ``None`` if the client hung up.

    Waits for ``wakeup``, for the next time-based change (``next_wake_seconds``: seconds from
    now when a lease or back-off ends) or for the client to disconnect, whichever comes first,
    so a poll the client gave up never takes a job for nobody.
    """
    until = time.monotonic() + max(timeout_seconds, 0.0)
    hung_up = asyncio.ensure_future(request.receive())
    try:
        while True:
            found = take()
            remaining = until - time.monotonic()
            if found or remaining <= 0:
                return found
            wake = next_wake_seconds()
            if wake is not None:
                remaining = min(remaining, max(wake, 0.001))
            changed = asyncio.ensure_future(wakeup.wait())
            done, _ = await asyncio.wait(
                {changed, hung_up}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            changed.cancel()
            if hung_up in done:
                return None
    finally:
        hung_up.cancel()
