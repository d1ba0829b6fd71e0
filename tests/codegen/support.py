"""Test support: generate an SDK into a temporary folder and import it; a recording server.

The server is a real HTTP server on loopback (stdlib, in a thread, port 0). It records every
request and answers from a script, so tests assert what the SDK put on the wire.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from loom.codegen.config import GeneratorConfig
from loom.codegen.pipeline import Result, generate


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    raw_query: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Reply:
    """A scripted answer."""

    status: int = 200
    body: bytes | str | Any = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict[str, str])


Handler = Callable[[Recorded], Reply]


class RecordingServer:
    """Answers ``(METHOD, path)`` from ``routes``; 404 problem+json otherwise."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], Reply | Handler] = {}
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(
                    method=self.command,
                    path=parts.path,
                    raw_query=parts.query,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                server.requests.append(rec)
                route = server.routes.get((self.command, parts.path))
                if route is None:
                    reply = Reply(404, {"title": "no route"}, "application/problem+json")
                elif isinstance(route, Reply):
                    reply = route
                else:
                    reply = route(rec)
                data = reply.body
                if not isinstance(data, (bytes, str)):
                    data = json.dumps(data)
                raw = data.encode() if isinstance(data, str) else data
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(raw)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> RecordingServer:
        """Start serving in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def last(self) -> Recorded:
        """The most recent request."""
        return self.requests[-1]


@contextmanager
def recording_server() -> Generator[RecordingServer]:
    """A started ``RecordingServer`` that stops afterwards."""
    server = RecordingServer().start()
    try:
        yield server
    finally:
        server.stop()


def write_schema(folder: Path, schema: dict[str, Any] | str, name: str = "api.yaml") -> Path:
    """Write a schema (a dict is dumped as YAML) and return its path."""
    path = folder / name
    text = schema if isinstance(schema, str) else yaml.safe_dump(schema, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def generate_sdk(schema: Path, out: Path, **options: Any) -> tuple[Result, ModuleType]:
    """Generate into ``out`` and import the package (a fresh import every time)."""
    config = GeneratorConfig(**options)
    result = generate(schema, out, config)
    lost = [d for d in result.diagnostics if d.code == "operations-unaccounted"]
    assert not lost, f"operations dropped without a diagnostic: {lost}"
    for name in [
        m for m in sys.modules if m == config.package or m.startswith(config.package + ".")
    ]:
        del sys.modules[name]
    sys.path.insert(0, str(out))
    try:
        module = importlib.import_module(config.package)
    finally:
        sys.path.remove(str(out))
    return result, module
