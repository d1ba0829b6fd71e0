"""Type-check user code with pyright strict and mypy strict, and hold it to its expectations.

A line that must fail says so at its end::

    client.pets.get("1")  # expect-error: pyright=reportArgumentType mypy=arg-type

Every finding must sit on a line that expects it (by tool and rule), and every rule a line
expects must be reported there; a line may expect one tool only (``pyright=reportDeprecated``),
the other must then say nothing about it. Anything else is a problem, returned as a sentence.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

__all__ = ["Finding", "check", "expectations", "mypy_findings", "pyright_findings"]

VENV_BIN = Path(sys.executable).parent
_EXPECT = re.compile(r"#\s*expect-error:(?P<rules>(?:\s+(?:pyright|mypy)=[\w,-]+)+)\s*$")
_MYPY_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<msg>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)


@dataclass(frozen=True)
class Finding:
    """One error a checker reported."""

    tool: str
    file: Path
    line: int
    rule: str
    message: str


def expectations(path: Path) -> dict[int, dict[str, set[str]]]:
    """Line → tool → the rules that line expects."""
    out: dict[int, dict[str, set[str]]] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(text)
        if match is None:
            continue
        per_tool: dict[str, set[str]] = {}
        for item in match.group("rules").split():
            tool, rules = item.split("=", 1)
            per_tool[tool] = set(rules.split(","))
        out[number] = per_tool
    return out


def pyright_findings(files: list[Path], extra_paths: list[Path], workdir: Path) -> list[Finding]:
    """pyright (strict) errors in ``files``, with the SDKs found through ``extra_paths``."""
    config = {
        "typeCheckingMode": "strict",
        "extraPaths": [str(p) for p in extra_paths],
        "include": [os.path.relpath(f, workdir) for f in files],
        "pythonVersion": "3.11",
    }
    cfg = workdir / "pyrightconfig.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    proc = subprocess.run(
        [str(VENV_BIN / "pyright"), "--outputjson", "--pythonpath", sys.executable, "-p", str(cfg)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = cast(dict[str, Any], json.loads(proc.stdout))
    except json.JSONDecodeError:
        raise AssertionError(
            f"pyright did not answer in JSON:\n{proc.stdout}{proc.stderr}"
        ) from None
    out: list[Finding] = []
    for d in cast(list[dict[str, Any]], report.get("generalDiagnostics", [])):
        if d.get("severity") != "error":
            continue
        out.append(
            Finding(
                "pyright",
                Path(d["file"]).resolve(),
                int(d["range"]["start"]["line"]) + 1,
                str(d.get("rule", "")),
                str(d["message"]).split("\n")[0],
            )
        )
    return out


def mypy_findings(files: list[Path], extra_paths: list[Path], workdir: Path) -> list[Finding]:
    """mypy (strict) errors in ``files``, with the SDKs found through ``extra_paths``."""
    env = dict(os.environ, MYPYPATH=os.pathsep.join(str(p) for p in extra_paths))
    proc = subprocess.run(
        [
            str(VENV_BIN / "mypy"),
            "--strict",
            "--python-executable",
            sys.executable,
            "--cache-dir",
            str(workdir / ".mypy_cache"),
            "--show-error-codes",
            "--no-error-summary",
            "--no-pretty",
            "--hide-error-context",
            "--show-absolute-path",
            *(str(f) for f in files),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode not in (0, 1):
        raise AssertionError(f"mypy crashed:\n{proc.stdout}{proc.stderr}")
    out: list[Finding] = []
    for text in proc.stdout.splitlines():
        match = _MYPY_LINE.match(text)
        if match is None:
            continue
        out.append(
            Finding(
                "mypy",
                Path(match.group("file")).resolve(),
                int(match.group("line")),
                match.group("code") or "",
                match.group("msg"),
            )
        )
    return out


def check(files: list[Path], findings: list[Finding], tool: str) -> list[str]:
    """What is wrong with ``tool``'s findings: errors on lines that expect none (or another
    rule), expected errors that did not happen."""
    problems: list[str] = []
    expected = {f.resolve(): expectations(f) for f in files}
    seen: dict[tuple[Path, int, str], set[str]] = {}
    for f in findings:
        if f.tool != tool:
            continue
        wanted = expected.get(f.file, {}).get(f.line, {}).get(f.tool)
        if wanted is None or f.rule not in wanted:
            problems.append(f"{f.file.name}:{f.line}: unexpected {f.tool} {f.rule}: {f.message}")
        seen.setdefault((f.file, f.line, f.tool), set()).add(f.rule)
    for path, lines in expected.items():
        for line, per_tool in lines.items():
            for which, rules in per_tool.items():
                if which != tool:
                    continue
                missing = rules - seen.get((path, line, tool), set())
                if missing:
                    problems.append(
                        f"{path.name}:{line}: {tool} did not report {', '.join(sorted(missing))}"
                    )
    return problems
