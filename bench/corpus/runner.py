"""Measure one generator on one document: generate, count operations, import, type-check.

``measure`` returns a flat JSON-friendly record; ``run`` does it for many documents on a thread
pool (every step is a subprocess, so threads are enough) and prints one counted line per result.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.corpus import checks
from bench.corpus.documents import CorpusError, Document, document_operations, load_document
from bench.corpus.generators import PRODUCED, Generation, Generator

Record = dict[str, Any]

# Outcomes of a document, best first.
CLEAN = "clean"  # SDK produced, every operation present, no generator diagnostic
WARNINGS = "warnings"  # SDK produced, every operation present, some diagnostics
DROPPED = "dropped"  # SDK produced, some operations missing


@dataclass(frozen=True)
class Limits:
    """Time limits of one measurement, in seconds, and which checks run."""

    generate_seconds: float = 120.0
    import_seconds: float = 120.0
    pyright_seconds: float = 300.0
    pyright: bool = True


def _categories(pairs: Iterable[tuple[str, str]]) -> dict[str, list[Any]]:
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for category, text in pairs:
        counts[category] += 1
        example.setdefault(category, text)
    return {c: [n, example[c]] for c, n in counts.most_common(50)}


def _missing(doc_ops: list[tuple[str, str]], gen: Generation) -> tuple[int, int, list[str]]:
    """(missing, missing without a reported reason, each missing one with its reason)."""
    if gen.operations is None:
        missing = max(0, len(doc_ops) - gen.operation_count)
        return missing, missing, []
    skipped = {(m, p): r for m, p, r in gen.skipped}
    absent = [op for op in doc_ops if op not in gen.operations]
    unreported = [op for op in absent if op not in skipped]
    examples = [f"{m} {p}: {skipped.get((m, p), 'not reported')}" for m, p in absent[:200]]
    return len(absent), len(unreported), examples


def generate_and_import(
    doc: Document, generator: Generator, out_root: Path, *, limits: Limits
) -> tuple[Record, Generation]:
    """Generate ``doc`` with ``generator``, count its operations, import every module.

    Args:
        doc: the corpus document.
        generator: loom or openapi-python-client.
        out_root: the SDK goes to ``out_root/<generator>/<doc slug>`` (replaced if present).
        limits: time limits.

    Returns:
        One flat record (``report.PER_GENERATOR_FIELDS`` go to the CSV) and the generation.
    """
    record: Record = {
        "document": doc.name,
        "size_bytes": doc.size_bytes,
        "generator": generator.name,
    }
    try:
        doc_ops = document_operations(load_document(doc.path))
    except (OSError, ValueError, yaml.YAMLError, CorpusError) as exc:
        doc_ops = []
        record["document_error"] = str(exc)[:200]
    record["doc_operations"] = len(doc_ops)
    out = out_root / generator.name / doc.slug
    shutil.rmtree(out, ignore_errors=True)
    gen = generator.generate(doc.path, out, timeout_seconds=limits.generate_seconds)
    record.update(
        status=gen.status,
        gen_seconds=round(gen.seconds, 3),
        message=gen.message,
        diagnostics=len(gen.diagnostics),
        diagnostic_categories=_categories(gen.diagnostics),
        skipped_reported=len(gen.skipped),
    )
    if gen.status != PRODUCED or gen.sdk_root is None or gen.package is None:
        record["outcome"] = gen.status
        return record, gen
    missing, unreported, examples = _missing(doc_ops, gen)
    record.update(
        sdk_operations=gen.operation_count,
        missing_operations=missing,
        missing_unreported=unreported,
        missing_examples=examples,
    )
    if missing:
        record["outcome"] = DROPPED
    else:
        record["outcome"] = WARNINGS if gen.diagnostics else CLEAN
    imp = checks.import_check(
        generator.python,
        gen.sdk_root,
        gen.package,
        base_url=generator.client_base_url,
        manifest=gen.manifest,
        timeout_seconds=limits.import_seconds,
    )
    record.update(
        import_ok=imp.ok,
        import_modules=imp.modules,
        import_failed_modules=len(imp.failed),
        import_summary=imp.summary,
        missing_methods=imp.missing_methods,
    )
    return record, gen


def type_check(
    record: Record, gen: Generation, generator: Generator, *, strict: bool, limits: Limits
) -> None:
    """Add pyright basic (and strict when asked) results for a produced SDK to ``record``."""
    if gen.status != PRODUCED or gen.sdk_root is None or gen.package is None:
        return
    for is_strict in (False, True) if strict else (False,):
        result = checks.pyright(
            gen.sdk_root,
            gen.package,
            venv=generator.pyright_venv,
            strict=is_strict,
            timeout_seconds=limits.pyright_seconds,
        )
        key = "strict" if is_strict else "pyright"
        record[f"{key}_errors"] = result.errors
        record[f"{key}_message"] = result.message
        record[f"{key}_rules"] = {
            r: [n, result.example[r]] for r, n in result.rules.most_common(10)
        }


@dataclass(frozen=True)
class DocTask:
    """One document to measure with every generator, and which type checks it gets."""

    doc: Document
    pyright: bool
    strict: bool
    flip: bool  # run the generators in reverse order (alternates which one goes first)


def measure_document(
    task: DocTask, generators: Sequence[Generator], out_root: Path, *, limits: Limits
) -> list[Record]:
    """Measure one document with each generator back to back, so both see the same load.

    Generation and import run first for every generator, then pyright for every generator.
    """
    order = list(reversed(generators)) if task.flip else list(generators)
    staged = [(g, *generate_and_import(task.doc, g, out_root, limits=limits)) for g in order]
    if limits.pyright and task.pyright:
        for generator, record, gen in staged:
            record["pyright_selected"] = True
            record["strict_selected"] = task.strict
            type_check(record, gen, generator, strict=task.strict, limits=limits)
    return [record for _, record, _ in staged]


def _line(done: int, total: int, rec: Record, elapsed: float) -> str:
    ops = f"ops {rec.get('sdk_operations', '-')}/{rec['doc_operations']}"
    imp = {True: "import ok", False: "import FAIL", None: "import -"}[rec.get("import_ok")]
    pyr = rec.get("pyright_errors", "-")
    eta = elapsed / done * (total - done) if done else 0.0
    width = 20
    bar = "#" * (width * done // total) + "." * (width - width * done // total)
    return (
        f"[{bar}] {done:>4}/{total} eta {eta / 60:4.1f}m {rec['generator']:<4} "
        f"{rec['outcome']:<14} {rec['gen_seconds']:6.1f}s {ops:<11} {imp:<11} "
        f"pyright {pyr!s:<4} {rec['document']}"
    )


def run(
    tasks: list[DocTask],
    generators: Sequence[Generator],
    out_root: Path,
    *,
    jobs: int,
    limits: Limits,
    on_record: Callable[[Record], None],
) -> list[Record]:
    """Measure every document with every generator, ``jobs`` documents at a time.

    Args:
        tasks: the documents; the largest run first so the tail stays short.
        generators: the generators to compare.
        out_root: where SDKs are written.
        jobs: documents measured in parallel.
        limits: time limits.
        on_record: called (under a lock) with each record as it completes.

    Returns:
        The records, in completion order.
    """
    ordered = sorted(tasks, key=lambda t: -t.doc.size_bytes)
    total = len(ordered) * len(generators)
    records: list[Record] = []
    lock = threading.Lock()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(measure_document, task, generators, out_root, limits=limits): task
            for task in ordered
        }
        for future in as_completed(futures):
            task = futures[future]
            try:
                recs = future.result()
            except Exception as exc:  # a harness bug must not lose the rest of the run
                recs = [
                    {
                        "document": task.doc.name,
                        "size_bytes": task.doc.size_bytes,
                        "generator": g.name,
                        "doc_operations": 0,
                        "status": "harness_error",
                        "outcome": "harness_error",
                        "gen_seconds": 0.0,
                        "message": f"{type(exc).__name__}: {exc}"[:300],
                    }
                    for g in generators
                ]
            with lock:
                for rec in recs:
                    records.append(rec)
                    on_record(rec)
                    elapsed = time.perf_counter() - started
                    print(_line(len(records), total, rec, elapsed), file=sys.stderr, flush=True)
    return records


def load_records(path: Path) -> dict[str, Record]:
    """Records from a JSON-lines file, keyed by document (later lines win)."""
    out: dict[str, Record] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        if line.strip():
            rec: Record = json.loads(line)
            out[str(rec["document"])] = rec
    return out
