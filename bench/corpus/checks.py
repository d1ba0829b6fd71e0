"""Checks on a generated SDK: import every module and construct the client; pyright.

Both run in subprocesses with a time limit, in the environment that can import the SDK.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[2]
IMPORT_CHECK = Path(__file__).resolve().parent / "import_check.py"
PYRIGHT = ROOT / ".venv" / "bin" / "pyright"


@dataclass
class ImportResult:
    """Outcome of importing every module of one SDK.

    Attributes:
        ok: every module imported, the client was constructed, and every manifest operation
            resolved on it.
        modules: how many modules were found.
        failed: ``module -> error`` for modules that did not import.
        client_error: why the client could not be constructed ("" when it could).
        missing_methods: manifest operations whose python name is absent from the client.
    """

    ok: bool
    modules: int = 0
    failed: dict[str, str] = field(default_factory=dict[str, str])
    client_error: str = ""
    missing_methods: int = 0

    @property
    def summary(self) -> str:
        """One line: the first problem, or ``ok``."""
        if self.ok:
            return "ok"
        if self.failed:
            name, error = next(iter(self.failed.items()))
            return f"{len(self.failed)} modules fail, e.g. {name}: {error}"
        if self.client_error:
            return f"client: {self.client_error}"
        return f"{self.missing_methods} manifest operations missing on the client"


def import_check(
    python: Path,
    sdk_root: Path,
    package: str,
    *,
    base_url: str | None,
    manifest: Path | None,
    timeout_seconds: float,
) -> ImportResult:
    """Run ``import_check.py`` for one SDK in a fresh interpreter.

    Args:
        python: interpreter of an environment that has the SDK's dependencies.
        sdk_root: folder to put on ``sys.path``.
        package: the SDK's import name.
        base_url: passed to the client's constructor when it needs one.
        manifest: loom's manifest, to cross-check operations against the client.
        timeout_seconds: time limit for the whole check.

    Returns:
        The result; a timeout or an unreadable report is a failed result with a reason.
    """
    cmd = [str(python), str(IMPORT_CHECK), str(sdk_root), package]
    if base_url is not None:
        cmd += ["--base-url", base_url]
    if manifest is not None:
        cmd += ["--manifest", str(manifest)]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_seconds,
            env=env,
            cwd=sdk_root,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ImportResult(
            False, client_error=f"import check timed out after {timeout_seconds:.0f} s"
        )
    marker = result.stdout.rfind("@@REPORT@@")
    if marker < 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return ImportResult(False, client_error=f"import check died: {tail[0][:300]}")
    report = cast(dict[str, Any], json.loads(result.stdout[marker + len("@@REPORT@@") :]))
    failed = cast(dict[str, str], report.get("failed", {}))
    client = report.get("client")
    missing = int(report.get("missing_count", 0))
    return ImportResult(
        ok=not failed and client == "ok" and missing == 0,
        modules=int(report.get("modules", 0)),
        failed=failed,
        client_error="" if client == "ok" else str(client or "not constructed"),
        missing_methods=missing,
    )


@dataclass
class PyrightResult:
    """Outcome of one pyright run.

    Attributes:
        errors: error count, or None when pyright did not finish.
        rules: error count per rule (``reportAttributeAccessIssue``...).
        example: one error message per rule.
        message: why pyright did not finish ("" when it did).
    """

    errors: int | None
    rules: Counter[str] = field(default_factory=Counter[str])
    example: dict[str, str] = field(default_factory=dict[str, str])
    message: str = ""


def pyright(
    sdk_root: Path,
    package: str,
    *,
    venv: tuple[Path, str],
    strict: bool,
    timeout_seconds: float,
) -> PyrightResult:
    """Type-check one SDK with ``.venv/bin/pyright``.

    A ``pyrightconfig*.json`` is written next to the SDK, pointing pyright at ``venv`` (the
    environment with the SDK's dependencies).

    Args:
        sdk_root: folder holding the package.
        package: the package folder name.
        venv: ``(venvPath, venv)`` of the environment that has the SDK's dependencies.
        strict: strict mode instead of basic.
        timeout_seconds: time limit.

    Returns:
        The error count and its breakdown by rule.
    """
    mode = "strict" if strict else "basic"
    config = sdk_root / f"pyrightconfig.{mode}.json"
    config.write_text(
        json.dumps(
            {
                "include": [package],
                "typeCheckingMode": mode,
                "pythonVersion": "3.11",
                "venvPath": str(venv[0]),
                "venv": venv[1],
                "reportMissingModuleSource": False,
            },
            indent=2,
        )
    )
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    try:
        result = subprocess.run(
            [str(PYRIGHT), "--outputjson", "-p", str(config)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_seconds,
            cwd=sdk_root,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return PyrightResult(None, message=f"pyright timed out after {timeout_seconds:.0f} s")
    start = result.stdout.find("{")
    try:
        data = cast(dict[str, Any], json.loads(result.stdout[start:])) if start >= 0 else {}
    except json.JSONDecodeError:
        data = {}
    if "summary" not in data:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return PyrightResult(None, message=f"pyright failed: {tail[0][:300]}")
    out = PyrightResult(int(cast(dict[str, Any], data["summary"]).get("errorCount", 0)))
    for diag in cast(list[dict[str, Any]], data.get("generalDiagnostics", [])):
        if diag.get("severity") != "error":
            continue
        rule = str(diag.get("rule") or _rule_from_message(str(diag.get("message", ""))))
        out.rules[rule] += 1
        if rule not in out.example:
            file = os.path.relpath(str(diag.get("file", "")), sdk_root)
            line = int(
                cast(
                    dict[str, Any], cast(dict[str, Any], diag.get("range", {})).get("start", {})
                ).get("line", 0)
            )
            message = str(diag.get("message", "")).splitlines()[0][:200]
            out.example[rule] = f"{file}:{line + 1}: {message}"
    return out


_SYNTAX = re.compile(r"expected|invalid|unexpected", re.IGNORECASE)


def _rule_from_message(message: str) -> str:
    return "syntax" if _SYNTAX.search(message) else "other"
