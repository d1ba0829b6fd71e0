"""The ``loom diff`` command: argument parsing, progress lines, the report and the exit code."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    """Register ``loom diff``."""
    text = "list the changes in the Python API between two schemas or SDK trees"
    p = sub.add_parser("diff", help=text, description=text + "; exit 1 when one breaks")
    p.add_argument("old", type=Path, help="old schema, or an SDK folder loom generated")
    p.add_argument("new", type=Path, help="new schema, or an SDK folder loom generated")
    p.add_argument("--config", type=Path, help="loom TOML configuration for both schemas")
    p.add_argument("--old-config", type=Path, help="configuration of the old schema")
    p.add_argument("--new-config", type=Path, help="configuration of the new schema")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("-o", "--output", type=Path, help="write the report here (default: stdout)")
    p.add_argument(
        "--suggest-renames",
        action="store_true",
        help="print a [renames] table for what moved with the same shape, instead of the report",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``loom diff``: 0 when nothing breaks, 1 when something does, 2 on bad input."""
    from loom.codegen.config import load_config
    from loom.codegen.diagnostics import FatalSchemaError
    from loom.codegen.diff.compare import compare
    from loom.codegen.diff.load import load_pair
    from loom.codegen.diff.report import FORMATS, next_version, summary

    started = time.perf_counter()
    try:
        shared = args.config
        old_config = load_config(args.old_config or shared)
        new_config = load_config(args.new_config or shared)
        old, new = load_pair(args.old, args.new, old_config, new_config)
        print(f"  load  {time.perf_counter() - started:6.2f} s  both sides", file=sys.stderr)
    except FatalSchemaError as exc:
        print(f"loom: error: {exc}", file=sys.stderr)
        return 2
    if args.suggest_renames:
        from loom.codegen.diff.suggest import as_toml, suggest

        _emit(as_toml(suggest(old, new)), args.output)
        return 0
    changes = compare(old, new)
    version = next_version(old.version, changes)
    _emit(FORMATS[args.format](changes, str(args.old), str(args.new), version), args.output)
    seconds = time.perf_counter() - started
    print(
        f"loom diff: {summary(changes)}; next version {version}; {seconds:.2f} s", file=sys.stderr
    )
    return 1 if any(c.breaking for c in changes) else 0


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
