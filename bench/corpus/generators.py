"""The two generators measured on the corpus: loom and openapi-python-client 0.29.1.

Each runs in a subprocess with a time limit. The result says whether an SDK came out, which
package it is, how many operations it holds and what the generator said about the document.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from bench.peers import OPC

ROOT = Path(__file__).resolve().parents[2]
LOOM_PYTHON = ROOT / ".venv" / "bin" / "python"

# Outcomes of one generation, worst last.
PRODUCED = "produced"
FATAL = "fatal"  # the generator refused the document with a located message (no traceback)
CRASH = "crash"  # a traceback
TIMEOUT = "timeout"
INVALID_PYTHON = "invalid_python"  # an SDK came out, but some file does not parse
NO_OUTPUT = "no_output"  # exit status said fine but there is no package


@dataclass
class Generation:
    """What one generator made of one document.

    Attributes:
        status: one of the outcome constants above.
        seconds: wall time of the generator process.
        sdk_root: the folder to put on ``sys.path``; None without an SDK.
        package: the generated package's import name.
        operations: ``(METHOD, path)`` pairs present in the SDK when known (loom's manifest).
        operation_count: number of operations present in the SDK.
        skipped: operations the generator reported as skipped, with their reason.
        diagnostics: ``(category, example)`` pairs, one per diagnostic.
        message: the failure's message (empty when produced).
        invalid_files: files that do not parse.
        manifest: loom's manifest path, when there is one.
    """

    status: str
    seconds: float
    sdk_root: Path | None = None
    package: str | None = None
    operations: set[tuple[str, str]] | None = None
    operation_count: int = 0
    skipped: list[tuple[str, str, str]] = field(default_factory=list[tuple[str, str, str]])
    diagnostics: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    message: str = ""
    invalid_files: list[str] = field(default_factory=list[str])
    manifest: Path | None = None


class Generator(Protocol):
    """A generator the corpus run can measure."""

    name: str
    python: Path  # the interpreter whose environment can import its SDKs
    pyright_venv: tuple[Path, str]  # (venvPath, venv) for pyright
    client_base_url: str | None  # constructor argument the client needs, if any

    def generate(self, document: Path, out: Path, *, timeout_seconds: float) -> Generation:
        """Generate an SDK for ``document`` into ``out``."""
        ...


_ADDRESS = re.compile(r"<[^>]*object at 0x[0-9a-f]+>")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_POINTER = re.compile(r"(#?/[\w{}\-.~%$/]+)")
_NUMBER = re.compile(r"\d+")


def normalize(message: str) -> str:
    """Reduce a message to a category by blanking out names, pointers and numbers."""
    text = _ADDRESS.sub("<obj>", message.strip())
    text = _QUOTED.sub("'…'", text)
    text = _POINTER.sub("/…", text)
    text = _NUMBER.sub("N", text)
    return text[:160]


_EXCEPTION = re.compile(r"^[\w.]*(Error|Exception|Interrupt|Exit)\b.*")


def _exception_line(output: str) -> str:
    """The ``SomeError: message`` line of a traceback (plain or rich), else the last line."""
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    matches = [ln for ln in lines if _EXCEPTION.match(ln)]
    return (matches[-1] if matches else lines[-1] if lines else "traceback")[:300]


def _find_package(out: Path) -> tuple[Path, str] | None:
    """``(sdk_root, package)`` for the generated tree in ``out``."""
    if (out / "__init__.py").exists():
        return out.parent, out.name
    candidates = sorted(p for p in out.iterdir() if (p / "__init__.py").exists())
    if not candidates:
        return None
    preferred = [p for p in candidates if (p / "_runtime").is_dir() or (p / "client.py").exists()]
    chosen = (preferred or candidates)[0]
    return out, chosen.name


def _unparsable(package_dir: Path) -> list[str]:
    bad: list[str] = []
    for py in sorted(package_dir.rglob("*.py")):
        try:
            ast.parse(py.read_bytes(), filename=str(py))
        except (SyntaxError, ValueError) as exc:
            bad.append(f"{py.relative_to(package_dir.parent)}: {exc}")
    return bad


def _run(
    cmd: list[str], *, cwd: Path, timeout_seconds: float, env: dict[str, str] | None = None
) -> tuple[int | None, str, float]:
    """Run ``cmd``; return (exit code or None on timeout, combined output, seconds)."""
    started = time.perf_counter()
    try:
        result = subprocess.run(
            cmd,
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_seconds,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return None, out, time.perf_counter() - started
    return result.returncode, result.stdout + result.stderr, time.perf_counter() - started


def _finish(gen: Generation, out: Path) -> Generation:
    found = _find_package(out) if out.is_dir() else None
    if found is None:
        if gen.status == PRODUCED:
            gen.status = NO_OUTPUT
            gen.message = gen.message or "the generator exited 0 but wrote no package"
        return gen
    gen.sdk_root, gen.package = found
    bad = _unparsable(gen.sdk_root / gen.package)
    if bad:
        gen.status = INVALID_PYTHON
        gen.invalid_files = bad
        gen.message = bad[0]
    return gen


class Loom:
    """loom, run as ``python -m loom generate`` in the project's virtualenv."""

    name: str = "loom"
    python: Path = LOOM_PYTHON
    pyright_venv: tuple[Path, str] = (ROOT, ".venv")
    client_base_url: str | None = None

    def generate(self, document: Path, out: Path, *, timeout_seconds: float) -> Generation:
        """Generate with loom; read ``loom-manifest.json`` for operations and diagnostics."""
        cmd = [str(LOOM_PYTHON), "-m", "loom", "generate", str(document), "-o", str(out), "-q"]
        code, output, seconds = _run(cmd, cwd=ROOT, timeout_seconds=timeout_seconds)
        if code is None:
            return Generation(TIMEOUT, seconds, message=f"no result after {timeout_seconds:.0f} s")
        if "Traceback (most recent call last)" in output:
            return Generation(CRASH, seconds, message=_exception_line(output))
        if code != 0:
            lines = [ln for ln in output.strip().splitlines() if ln.strip()]
            gen = Generation(FATAL, seconds, message=(lines[-1] if lines else f"exit {code}")[:300])
            gen.diagnostics = [(normalize(gen.message), gen.message)]
            return gen
        gen = _finish(Generation(PRODUCED, seconds), out)
        manifest = out / "loom-manifest.json"
        if gen.sdk_root is not None and manifest.exists():
            gen.manifest = manifest
            _read_manifest(gen, manifest)
        elif gen.status == PRODUCED:
            gen.message = "no loom-manifest.json next to the SDK"
        return gen


def _read_manifest(gen: Generation, manifest: Path) -> None:
    data = cast(dict[str, Any], json.loads(manifest.read_text()))
    package = data.get("package")
    root = gen.sdk_root
    if isinstance(package, str) and root is not None and (root / package / "__init__.py").exists():
        gen.package = package
    ops = cast(list[dict[str, Any]], data.get("operations", []))
    gen.operations = {(str(op.get("method", "")).upper(), str(op.get("path", ""))) for op in ops}
    gen.operation_count = len(gen.operations)
    for item in cast(list[dict[str, Any]], data.get("skipped", [])):
        gen.skipped.append(
            (
                str(item.get("method", "")).upper(),
                str(item.get("path", "")),
                str(item.get("reason", "")),
            )
        )
    for diag in cast(list[Any], data.get("diagnostics", [])):
        if isinstance(diag, dict):
            d = cast(dict[str, Any], diag)
            text = f"{d.get('pointer', '')}: {d.get('message', '')}"
            code = d.get("code")
            category = (
                f"{code}: {normalize(str(d.get('message', '')))}" if code else normalize(text)
            )
            gen.diagnostics.append((category, text[:300]))
        else:
            gen.diagnostics.append((normalize(str(diag)), str(diag)[:300]))


_OPC_NOISE = re.compile(
    r"^(\s|[{}\[\]\"/\u2500-\u257f]|Generating |If you believe|WARNING parsing|Traceback|$)"
)


def opc_diagnostics(output: str) -> list[tuple[str, str]]:
    """``(category, example)`` for each problem openapi-python-client printed."""
    found: list[tuple[str, str]] = []
    for line in output.splitlines():
        if _OPC_NOISE.match(line) or line.startswith(
            ("Error(s) encountered", "Warning(s) encountered")
        ):
            continue
        if line.startswith("Failure to process schema has resulted in the removal of"):
            continue
        found.append((normalize(line), line.strip()[:300]))
    return found


class OpenAPIPythonClient:
    """openapi-python-client 0.29.1 from its peer virtualenv, formatting (ruff) on."""

    name: str = "opc"
    python: Path = OPC.python
    pyright_venv: tuple[Path, str] = (OPC.venv.parent, OPC.venv.name)
    client_base_url: str | None = "http://localhost"

    def generate(self, document: Path, out: Path, *, timeout_seconds: float) -> Generation:
        """Generate with ``openapi-python-client generate``; count ``sync_detailed`` modules."""
        env = dict(os.environ)
        env["PATH"] = f"{OPC.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(COLUMNS="400", NO_COLOR="1", TERM="dumb")  # one unwrapped line per message
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(OPC.bin("openapi-python-client")),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(out),
            "--overwrite",
        ]
        code, output, seconds = _run(cmd, cwd=out.parent, timeout_seconds=timeout_seconds, env=env)
        if code is None:
            return Generation(TIMEOUT, seconds, message=f"no result after {timeout_seconds:.0f} s")
        diagnostics = opc_diagnostics(output)
        if "Traceback (most recent call last)" in output:
            return Generation(
                CRASH, seconds, message=_exception_line(output), diagnostics=diagnostics
            )
        gen = Generation(PRODUCED, seconds, diagnostics=diagnostics)
        if not out.is_dir() or _find_package(out) is None:
            gen.status = FATAL
            gen.message = diagnostics[0][1] if diagnostics else f"exit {code}, no package"
            return gen
        gen = _finish(gen, out)
        if gen.sdk_root is not None and gen.package is not None:
            api = gen.sdk_root / gen.package / "api"
            gen.operation_count = (
                sum(
                    1
                    for py in api.rglob("*.py")
                    if "def sync_detailed(" in py.read_text(errors="replace")
                )
                if api.is_dir()
                else 0
            )
        return gen


GENERATORS: dict[str, Generator] = {"loom": Loom(), "opc": OpenAPIPythonClient()}
