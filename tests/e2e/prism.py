"""Running Stoplight Prism as a validating mock server, and reading its verdicts.

Prism (``@stoplight/prism-cli``, installed by ``npm ci``) validates every request against the
schema it serves. It reports a request it rejects in one of two ways:

- it answers with the schema's own 400/422 response and lists the problems in an
  ``sl-violations`` header whose entries have ``location[0] == "request"``;
- it answers with a problem body of its own, ``type`` ``https://stoplight.io/prism/errors#…``
  (``UNPROCESSABLE_ENTITY`` with a ``validation`` list, ``UNAUTHORIZED``, ``NOT_ACCEPTABLE``,
  ``NO_PATH_MATCHED_ERROR``…), when the schema has no response it could use.

``sl-violations`` entries located in the *response* mean that the schema's own example breaks
the schema; they do not reject anything and are reported separately.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

__all__ = ["PRISM_BIN", "PrismVerdict", "free_port", "prism_server", "verdict"]

logger = logging.getLogger(__name__)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
PRISM_BIN: Final = REPO_ROOT / "node_modules" / ".bin" / "prism"
PRISM_ERROR_TYPE: Final = "https://stoplight.io/prism/errors#"


@dataclass(frozen=True, slots=True)
class PrismVerdict:
    """What Prism said about one exchange.

    Attributes:
        rejected: Prism refused the request (validation, security, negotiation or routing).
        reasons: one line per problem with the request.
        response_violations: problems Prism found in the response it generated from the schema.
    """

    rejected: bool
    reasons: tuple[str, ...]
    response_violations: tuple[str, ...]


def _violation_line(entry: Mapping[str, Any]) -> str:
    location = ".".join(str(p) for p in cast("list[Any]", entry.get("location") or []))
    return f"{location}: {entry.get('code', '?')}: {entry.get('message', '')}"


def verdict(status_code: int, headers: Mapping[str, str], body: bytes) -> PrismVerdict:
    """Classify one Prism response.

    Args:
        status_code: the HTTP status.
        headers: the response headers (case-insensitive mapping, as httpx gives them).
        body: the raw response body.

    Returns:
        The verdict; ``rejected`` is true only for Prism's own refusals, never for a mocked
        error response that the schema declares and that the request did not cause.
    """
    reasons: list[str] = []
    response_side: list[str] = []
    raw = headers.get("sl-violations")
    if raw:
        try:
            entries = cast("list[Any]", json.loads(raw))
        except ValueError:
            entries = []
            reasons.append(f"unreadable sl-violations header: {raw[:200]}")
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            item = cast("Mapping[str, Any]", entry)
            location = cast("list[Any]", item.get("location") or [])
            line = _violation_line(item)
            if location and location[0] == "request":
                if str(item.get("severity", "Error")) == "Error":
                    reasons.append(line)
            else:
                response_side.append(line)
    if status_code >= 400 and body:
        problem: Any = None
        with contextlib.suppress(ValueError):
            problem = json.loads(body)
        if isinstance(problem, Mapping):
            doc = cast("Mapping[str, Any]", problem)
            kind = str(doc.get("type", ""))
            if kind.startswith(PRISM_ERROR_TYPE):
                reasons.append(
                    f"{status_code} {kind.removeprefix(PRISM_ERROR_TYPE)}: "
                    f"{doc.get('detail') or doc.get('title', '')}"
                )
                for entry in cast("list[Any]", doc.get("validation") or []):
                    if isinstance(entry, Mapping):
                        reasons.append(_violation_line(cast("Mapping[str, Any]", entry)))
    return PrismVerdict(bool(reasons), tuple(reasons), tuple(response_side))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True, slots=True)
class PrismServer:
    """A started Prism process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        """The mock's root URL (Prism serves the schema's paths without the server's base path)."""
        return f"http://127.0.0.1:{self.port}"

    def wait_until_listening(self, *, timeout_seconds: float = 60.0) -> None:
        """Block until Prism accepts connections.

        Raises:
            RuntimeError: Prism exited or did not listen in time (the message has its log).
        """
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Prism exited with {self.process.returncode}:\n{self.log()}")
            if _listening(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"Prism did not listen within {timeout_seconds} s:\n{self.log()}")

    def log(self) -> str:
        """The last part of Prism's output."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


@contextlib.contextmanager
def prism_server(spec: Path, log_path: Path) -> Generator[PrismServer]:
    """Start ``prism mock`` for ``spec`` on a free port; stop it on exit.

    The process is started and returned at once, so the caller can do other work while
    Prism loads; call ``wait_until_listening`` before the first request.

    Args:
        spec: the OpenAPI document to serve.
        log_path: where Prism's output goes.
    """
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(PRISM_BIN), "mock", str(spec), "-h", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO_ROOT,
        )
    logger.info("started Prism (pid %s) on port %s", process.pid, port)
    try:
        yield PrismServer(process, port, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
