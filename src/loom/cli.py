"""The ``loom`` command: ``generate``, ``check``, ``diff``, ``serve``, ``db``, ``worker``, ``demo``.

Each sub-command imports its part of loom only when it runs, so ``loom --help`` is instant.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

# argparse names the type of ``add_subparsers()`` only privately; one alias keeps it in one place.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # pyright: ignore[reportPrivateUsage]


def _add_generate(sub: Subparsers) -> None:
    for name, check in (("generate", False), ("check", True)):
        help_text = (
            "generate a typed Python SDK from an API schema"
            if not check
            else "exit 1 and list the files when OUT is stale (same as generate --check)"
        )
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("schema", type=Path, help="OpenAPI 3.0/3.1 document (JSON or YAML)")
        p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
        p.add_argument("--config", type=Path, help="loom TOML configuration file")
        p.add_argument("--package", help="Python package name (overrides the configuration)")
        p.add_argument(
            "--layout", choices=("resources", "flat"), help="client layout (overrides config)"
        )
        if not check:
            p.add_argument(
                "--check", action="store_true", help="do not write; exit 1 when OUT is stale"
            )
        p.add_argument(
            "--previous",
            type=Path,
            help="the SDK (folder or schema) this one replaces: the version follows semver "
            "from the API changes since it",
        )
        p.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
        p.add_argument(
            "--diagnostics",
            choices=("summary", "all", "none"),
            default="summary",
            help="how many diagnostics to print (default: the first 20)",
        )
        p.set_defaults(func=_run_generate, force_check=check)


def _run_generate(args: argparse.Namespace) -> int:
    from loom.codegen.pipeline import run_cli

    # One short run that builds a large object graph and keeps it to the end: the cyclic
    # collector's ~100 passes over it cost 3-5 % of the run and would free almost nothing.
    gc.disable()
    try:
        return run_cli(args)
    finally:
        gc.enable()


def _run_demo(args: argparse.Namespace) -> int:
    from loom.demo import main as demo_main

    return demo_main(skip_engine=bool(args.skip_engine))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``loom`` command."""
    parser = argparse.ArgumentParser(
        prog="loom",
        description="loom: typed Python SDKs from API schemas, and a durable pipeline engine.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_generate(sub)
    from loom.codegen.diff.cli import add_command as add_diff

    add_diff(sub)
    demo = sub.add_parser("demo", help="generate the Camunda SDK and run the engine's demo job")
    demo.add_argument("--skip-engine", action="store_true", help="only the SDK part")
    demo.set_defaults(func=_run_demo)
    from loom.worker_cli import add_command as add_worker

    add_worker(sub)
    try:
        from loom.engine.cli import add_commands
    except ImportError:  # the engine is optional for generator-only installs
        pass
    else:
        add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``loom`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("loom: interrupted", file=sys.stderr)
        return 130
    return code


def run() -> None:
    """The console script: ``main()``, then exit.

    ``generate`` and ``check`` end with ``os._exit`` once their output is flushed, as mypy's
    fast exit does: tearing down the schema, the IR and the rendered files one object at a time
    costs 20-50 ms (5-10 % of a Camunda run) and does nothing useful. The other commands
    (``serve``, ``demo``, ``db``) exit normally, so their cleanup handlers run.
    """
    argv = sys.argv[1:]
    code = main(argv)
    if argv[:1] in (["generate"], ["check"]):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    run()
