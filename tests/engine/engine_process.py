"""Run ``loom serve`` in a subprocess on a free loopback port (for the crash and scale tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import PYTHON, REPO_ROOT, subprocess_env


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EngineProcess:
    """One ``loom serve`` subprocess."""

    def __init__(self, database_url: str, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "loom", "serve", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=subprocess_env(database_url, **env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(log_path)

    def _wait_ready(self, log_path: Path, timeout_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"loom serve exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"loom serve did not get ready: {log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """``kill -9``: no chance to clean up."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._log.close()


def run_db_command(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``loom db ARGS`` against ``database_url``."""
    return subprocess.run(
        [PYTHON, "-m", "loom", "db", *args],
        cwd=REPO_ROOT,
        env=subprocess_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


__all__ = ["EngineProcess", "free_port", "run_db_command", "sys"]
