"""``make bench``: run every benchmark module in turn and print one summary line.

Modules written by other parts of the project (``bench.runtime_overhead``,
``bench.engine_throughput``) are imported by name and skipped with a message when absent; any
other public module of the ``bench`` package with a ``main()`` runs after them. The corpus run is
separate (``make corpus``): it takes far longer than the rest.

    python -m bench.run_all [--only NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Callable
from typing import cast

BENCHES = (
    "bench.codegen_speed",
    "bench.import_time",
    "bench.sdk_regression",
    "bench.generator_memory",
    "bench.runtime_overhead",
    "bench.engine_throughput",
)
NOT_BENCHES = {"bench.run_all", "bench.peers", "bench.corpus"}


def discover() -> list[str]:
    """The named benchmarks, then every other public module of the package, sorted."""
    import bench

    found = sorted(
        f"bench.{info.name}"
        for info in pkgutil.iter_modules(bench.__path__)
        if not info.name.startswith("_")
    )
    extra = [name for name in found if name not in BENCHES and name not in NOT_BENCHES]
    return [*BENCHES, *extra]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; return 1 when any of them failed."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--only", nargs="*", help="run only these (e.g. codegen_speed)")
    args = parser.parse_args(argv)
    wanted = [b for b in discover() if not args.only or b.rsplit(".", 1)[1] in args.only]
    results: dict[str, str] = {}
    for i, name in enumerate(wanted, start=1):
        print(f"== [{i}/{len(wanted)}] {name}", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            print(f"   skipped: {name} does not exist yet", file=sys.stderr)
            results[name] = "skipped (absent)"
            continue
        entry = getattr(module, "main", None)
        if not callable(entry):
            results[name] = "skipped (no main())"
            continue
        started = time.perf_counter()
        saved_argv = sys.argv
        sys.argv = [name]  # each benchmark records its own command, not run_all's
        try:
            code = cast(Callable[[list[str]], int | None], entry)([])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = saved_argv
        elapsed = time.perf_counter() - started
        results[name] = f"ok in {elapsed:.0f} s" if not code else f"FAILED (exit {code})"
    failed = [n for n, r in results.items() if r.startswith("FAILED")]
    summary = ", ".join(f"{n.rsplit('.', 1)[1]}: {r}" for n, r in results.items())
    print(f"bench: {len(results)} benchmarks; {summary}; results in docs/benchmarks.md")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
