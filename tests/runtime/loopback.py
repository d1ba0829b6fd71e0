"""Real loopback HTTP servers for runtime tests: a scriptable API server and an OAuth server.

Both are stdlib ``ThreadingHTTPServer``s on 127.0.0.1, port 0, speaking HTTP/1.1 with
keep-alive, run in a daemon thread. A script is a function from the received request to a
``Reply``; a reply can delay (for timeouts) or reset the connection without answering.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from typing_extensions import override


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return dict(urllib.parse.parse_qsl(self.body.decode()))


@dataclass
class Reply:
    """What the server answers."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict[str, str])
    delay_seconds: float = 0.0
    reset: bool = False


Script = Callable[[Received], Reply]


class _QuietServer(ThreadingHTTPServer):
    """A client that timed out and hung up is expected in these tests, not an error to print."""

    @override
    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering with a script; records every request."""

    def __init__(self, script: Script, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.scheme = "https" if ssl_context is not None else "http"
        self.received: list[Received] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            @override
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                req = Received(
                    self.command,
                    path,
                    query,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with outer._lock:
                    outer.received.append(req)
                reply = outer.script(req)
                if reply.delay_seconds:
                    time.sleep(reply.delay_seconds)
                if reply.reset:
                    # SO_LINGER 0 makes close() send RST: the client sees a connection reset.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                payload = reply.body
                headers = dict(reply.headers)
                if reply.json is not None:
                    payload = json.dumps(reply.json).encode()
                    headers.setdefault("Content-Type", "application/json")
                self.send_response(reply.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def do_PUT(self) -> None:
                self._handle()

            def do_PATCH(self) -> None:
                self._handle()

            def do_DELETE(self) -> None:
                self._handle()

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https`` with TLS)."""
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def start(self) -> LoopbackServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def count(self, path: str | None = None) -> int:
        """How many requests arrived (for one path, if given)."""
        with self._lock:
            return sum(1 for r in self.received if path is None or r.path == path)


class TokenServer:
    """An OAuth 2.0 token endpoint (client credentials) that also plays the protected API.

    ``/oauth/token`` issues ``tok-1``, ``tok-2``… valid ``expires_in`` seconds; ``/api/...``
    answers 401 unless the bearer token was issued, is not revoked and has not expired.
    """

    def __init__(self, *, expires_in: float = 3600.0, token_delay_seconds: float = 0.0) -> None:
        self.expires_in = expires_in
        self.token_delay_seconds = token_delay_seconds
        self.issued: dict[str, float] = {}
        self.revoked: set[str] = set()
        self.forms: list[dict[str, str]] = []
        self.token_failures: list[int] = []
        """Statuses answered to the next token requests before a token is issued."""
        self.api_tokens: list[str] = []
        self.api_paths: list[str] = []
        self.api_body: Any = None
        """The JSON answered to an authorised API call (default: ``{"ok": true, "token": ...}``)."""
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._script)

    @property
    def token_url(self) -> str:
        """The token endpoint's URL."""
        return self.server.url + "/oauth/token"

    @property
    def token_requests(self) -> int:
        """How many token requests arrived."""
        return self.server.count("/oauth/token")

    def _script(self, req: Received) -> Reply:
        if req.path == "/oauth/token":
            form = req.form()
            with self._lock:
                self.forms.append(form)
                if self.token_failures:
                    status = self.token_failures.pop(0)
                    return Reply(status, json={"error": "temporarily_unavailable"})
                if form.get("client_secret") != "s3cret-value":
                    return Reply(401, json={"error": "invalid_client"})
                token = f"tok-{len(self.issued) + 1}"
                self.issued[token] = time.time() + self.expires_in
            return Reply(
                json={"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"},
                delay_seconds=self.token_delay_seconds,
            )
        auth = req.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        with self._lock:
            self.api_tokens.append(token)
            self.api_paths.append(req.path)
            expiry = self.issued.get(token)
        if expiry is None or token in self.revoked or time.time() > expiry:
            return Reply(401, json={"title": "Unauthorized"})
        if self.api_body is not None:
            return Reply(json=self.api_body)
        return Reply(json={"ok": True, "token": token})
