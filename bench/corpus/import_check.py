"""Import every module of one generated SDK and construct its client; print a JSON report.

Run as a script in a fresh interpreter (the SDK's own environment), standard library only:

    python import_check.py SDK_ROOT PACKAGE [--client Client] [--base-url URL] [--manifest FILE]

Importing only the top package hides broken modules, so every module found by walking the
package is imported. ``--manifest`` (loom's ``loom-manifest.json``) adds a cross-check: every
operation's ``python_name`` must resolve on the constructed client.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path
from typing import Any, cast


def _error(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
    return f"{type(exc).__name__}: {str(exc)[:300]}{where}"


def _walk(package: str, failed: dict[str, str]) -> list[str]:
    top = importlib.import_module(package)
    names = [package]

    def onerror(name: str) -> None:
        exc = sys.exc_info()[1]
        failed[name] = _error(exc) if exc is not None else "unknown error"

    paths = cast(list[str], getattr(top, "__path__", []))
    for info in pkgutil.walk_packages(paths, prefix=package + ".", onerror=onerror):
        names.append(info.name)
    return names


def _resolve(client: object, python_name: str) -> bool:
    """Whether ``python_name`` (``resource.method`` or ``method``) exists on the client."""
    parts = [p for p in python_name.replace("/", ".").split(".") if p]
    if not parts:
        return False
    if len(parts) > 1:
        node: object = client
        for part in parts:
            if not hasattr(node, part):
                return False
            node = getattr(node, part)
        return True
    if hasattr(client, parts[0]):
        return True
    for attr in dir(type(client)):
        if attr.startswith("_"):
            continue
        try:
            resource = getattr(client, attr)
        except Exception:
            continue
        if hasattr(resource, parts[0]) and not callable(getattr(type(client), attr, None)):
            return True
    return False


def check(
    root: Path, package: str, client_name: str, base_url: str | None, manifest: Path | None
) -> dict[str, Any]:
    """Import everything, construct the client, cross-check the manifest; return the report."""
    sys.path.insert(0, str(root))
    failed: dict[str, str] = {}
    report: dict[str, Any] = {"modules": 0, "failed": failed, "client": None, "missing": []}
    try:
        names = _walk(package, failed)
    except BaseException as exc:
        failed[package] = _error(exc)
        return report
    for name in names:
        if name in failed:
            continue
        try:
            importlib.import_module(name)
        except BaseException as exc:
            failed[name] = _error(exc)
    report["modules"] = len(names)
    pkg_dir = root / package
    if not any((pkg_dir / f).exists() for f in ("_client.py", "client.py", "client")):
        # A document with components and no paths generates a models-only package (no client).
        report["client"] = "ok"
        return report
    try:
        top = importlib.import_module(package)
        client_cls = getattr(top, client_name, None)
        if client_cls is None:
            client_mod = importlib.import_module(f"{package}.client")
            client_cls = getattr(client_mod, client_name)
        client = client_cls(base_url=base_url) if base_url is not None else client_cls()
    except BaseException as exc:
        report["client"] = _error(exc)
        return report
    report["client"] = "ok"
    if manifest is not None and manifest.exists():
        data = json.loads(manifest.read_text())
        ops = cast(list[dict[str, Any]], data.get("operations", []))
        missing: list[str] = []
        for op in ops:
            name = str(op.get("python_name", ""))
            try:
                found = _resolve(client, name)
            except BaseException as exc:
                failed[f"client.{name}"] = _error(exc)
                continue
            if not found:
                missing.append(name)
        report["missing"] = missing[:50]
        report["missing_count"] = len(missing)
    return report


def main() -> int:
    """Parse arguments, run the check, print the JSON report; exit 0 unless something failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("package")
    parser.add_argument("--client", default="Client")
    parser.add_argument("--base-url")
    parser.add_argument("--manifest", type=Path)
    args = parser.parse_args()
    report = check(args.root, args.package, args.client, args.base_url, args.manifest)
    sys.stdout.write("\n@@REPORT@@" + json.dumps(report) + "\n")
    ok = not report["failed"] and report["client"] == "ok" and not report["missing"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
