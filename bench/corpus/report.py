"""Write the corpus results: a per-document CSV and ``docs/corpus.md`` (generators side by side)."""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus.runner import CLEAN, DROPPED, WARNINGS, Record

PER_GENERATOR_FIELDS = (
    "outcome",
    "gen_seconds",
    "sdk_operations",
    "missing_operations",
    "missing_unreported",
    "diagnostics",
    "import_ok",
    "import_modules",
    "import_failed_modules",
    "import_summary",
    "pyright_errors",
    "strict_errors",
    "message",
)
NAMES = {"loom": "loom", "opc": "openapi-python-client 0.29.1"}
PRODUCED_OUTCOMES = (CLEAN, WARNINGS, DROPPED)


def write_csv(
    path: Path, documents: Sequence[tuple[str, int]], by_gen: dict[str, dict[str, Record]]
) -> None:
    """One row per document, ``<generator>_<field>`` columns for each generator."""
    path.parent.mkdir(parents=True, exist_ok=True)
    gens = sorted(by_gen)
    header = ["document", "size_bytes", "doc_operations"] + [
        f"{g}_{f}" for g in gens for f in PER_GENERATOR_FIELDS
    ]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for name, size in documents:
            recs = [by_gen[g].get(name) for g in gens]
            doc_ops = next((r["doc_operations"] for r in recs if r), "")
            row: list[Any] = [name, size, doc_ops]
            for rec in recs:
                row += [rec.get(f, "") if rec else "" for f in PER_GENERATOR_FIELDS]
            writer.writerow(row)


@dataclass
class Stats:
    """Aggregates of one generator over the measured documents."""

    documents: int
    outcomes: Counter[str]
    produced: int
    doc_operations: int
    missing: int
    missing_unreported: int
    import_ok: int
    pyright_checked: int
    pyright_zero: int
    pyright_unfinished: int
    strict_checked: int
    strict_zero: int
    gen_seconds_total: float
    gen_seconds_median: float

    def pct(self, n: int) -> str:
        """``n`` as a percentage of the documents."""
        return f"{100 * n / self.documents:.1f}%" if self.documents else "-"


def stats(records: Iterable[Record]) -> Stats:
    """Aggregate one generator's records."""
    recs = list(records)
    seconds = [float(r.get("gen_seconds", 0.0)) for r in recs]
    basic = [r for r in recs if r.get("pyright_selected")]
    strict = [r for r in recs if r.get("strict_selected")]
    return Stats(
        documents=len(recs),
        outcomes=Counter(str(r["outcome"]) for r in recs),
        produced=sum(1 for r in recs if r["outcome"] in PRODUCED_OUTCOMES),
        doc_operations=sum(int(r.get("doc_operations", 0)) for r in recs),
        missing=sum(_missing_ops(r) for r in recs),
        missing_unreported=sum(
            int(r.get("missing_unreported", r.get("doc_operations", 0))) for r in recs
        ),
        import_ok=sum(1 for r in recs if r.get("import_ok") is True),
        pyright_checked=len(basic),
        pyright_zero=sum(1 for r in basic if r.get("pyright_errors") == 0),
        pyright_unfinished=sum(
            1 for r in recs if "pyright_errors" in r and r.get("pyright_errors") is None
        ),
        strict_checked=len(strict),
        strict_zero=sum(1 for r in strict if r.get("strict_errors") == 0),
        gen_seconds_total=sum(seconds),
        gen_seconds_median=statistics.median(seconds) if seconds else 0.0,
    )


def _missing_ops(rec: Record) -> int:
    """Operations missing from the SDK; a document without an SDK misses all of them."""
    if rec["outcome"] in PRODUCED_OUTCOMES:
        return int(rec.get("missing_operations", 0))
    return int(rec.get("doc_operations", 0))


def _row(label: str, values: Sequence[str]) -> str:
    return f"| {label} | " + " | ".join(values) + " |"


def _table(gens: Sequence[str], all_stats: dict[str, Stats]) -> list[str]:
    lines = [
        _row("", [NAMES.get(g, g) for g in gens]),
        "|---|" + "---:|" * len(gens),
    ]

    def count(fn: Callable[[Stats], int]) -> list[str]:
        return [f"{fn(all_stats[g])} ({all_stats[g].pct(fn(all_stats[g]))})" for g in gens]

    lines += [
        _row("documents measured", [str(all_stats[g].documents) for g in gens]),
        _row("**SDK produced**", count(lambda s: s.produced)),
        _row("— clean (all operations, no diagnostic)", count(lambda s: s.outcomes[CLEAN])),
        _row("— all operations, with diagnostics", count(lambda s: s.outcomes[WARNINGS])),
        _row("— some operations missing", count(lambda s: s.outcomes[DROPPED])),
        _row("refused with a located message", count(lambda s: s.outcomes["fatal"])),
        _row("crashed (traceback)", count(lambda s: s.outcomes["crash"])),
        _row("invalid Python written", count(lambda s: s.outcomes["invalid_python"])),
        _row("timed out", count(lambda s: s.outcomes["timeout"])),
        _row(
            "no output / harness error",
            count(lambda s: s.outcomes["no_output"] + s.outcomes["harness_error"]),
        ),
        _row(
            "**operations missing** (of all in the documents)",
            [
                f"{s.missing} of {s.doc_operations} "
                f"({100 * s.missing / max(1, s.doc_operations):.2f}%)"
                for s in (all_stats[g] for g in gens)
            ],
        ),
        _row(
            "— missing without a reported reason",
            [
                str(all_stats[g].missing_unreported)
                if g == "loom"
                else "not reported per operation"
                for g in gens
            ],
        ),
        _row("**every module imports + client constructs**", count(lambda s: s.import_ok)),
        _row(
            "**pyright basic: zero errors** (fixed sample; no SDK counts as a failure)",
            [
                f"{s.pyright_zero} of {s.pyright_checked} "
                f"({100 * s.pyright_zero / max(1, s.pyright_checked):.1f}%)"
                for s in (all_stats[g] for g in gens)
            ],
        ),
        _row(
            "— pyright did not finish (timeout)",
            [str(all_stats[g].pyright_unfinished) for g in gens],
        ),
        _row(
            "pyright strict: zero errors (fixed sample)",
            [f"{all_stats[g].strict_zero} of {all_stats[g].strict_checked}" for g in gens],
        ),
        _row(
            "**generator wall time, total** (sum over documents)",
            [f"{all_stats[g].gen_seconds_total:.0f} s" for g in gens],
        ),
        _row(
            "generator wall time, median per document",
            [f"{all_stats[g].gen_seconds_median:.2f} s" for g in gens],
        ),
    ]
    return lines


def _targets(all_stats: dict[str, Stats]) -> list[str]:
    """Issue 4's targets for loom, each with loom's value, the peer's and a verdict."""
    loom, peer = all_stats.get("loom"), all_stats.get("opc")
    if loom is None or not loom.documents:
        return []

    def rate(
        s: Stats | None, n: Callable[[Stats], int], of: Callable[[Stats], int]
    ) -> float | None:
        return 100 * n(s) / of(s) if s is not None and of(s) else None

    def missing_rate(s: Stats | None) -> float | None:
        return 100 * s.missing / max(1, s.doc_operations) if s is not None else None

    rows: list[tuple[str, float | None, float | None, bool]] = []
    bars: list[tuple[str, Callable[[Stats], int], Callable[[Stats], int], float]] = [
        ("documents with an SDK", lambda s: s.produced, lambda s: s.documents, 99.5),
        (
            "every module imports + client constructs",
            lambda s: s.import_ok,
            lambda s: s.documents,
            99.0,
        ),
        ("pyright basic: zero errors", lambda s: s.pyright_zero, lambda s: s.pyright_checked, 97.0),
    ]
    for label, fn, of, bar in bars:
        mine, theirs = rate(loom, fn, of), rate(peer, fn, of)
        above = theirs is None or (mine is not None and (mine > theirs or mine == 100.0))
        ok = mine is not None and mine >= bar and above
        rows.append((f"{label} >= {bar}% and above the peer", mine, theirs, ok))
    mine_m, theirs_m = missing_rate(loom), missing_rate(peer)
    below = theirs_m is None or (mine_m is not None and (mine_m < theirs_m or mine_m == 0.0))
    ok_m = mine_m is not None and mine_m < 0.5 and below
    rows.append(("operations missing < 0.5% and below the peer", mine_m, theirs_m, ok_m))
    crashes = loom.outcomes["crash"] + loom.outcomes["timeout"]
    lines = [
        "## Targets (issue 4)",
        "",
        "| target | loom | openapi-python-client | met |",
        "|---|---:|---:|:---:|",
    ]
    for label, mine, theirs, ok in rows:
        t = "-" if theirs is None else f"{theirs:.2f}%"
        m = "-" if mine is None else f"{mine:.2f}%"
        lines.append(f"| {label} | {m} | {t} | {'yes' if ok else '**no**'} |")
    lines.append(
        f"| zero crashes or timeouts | {crashes} | "
        f"{peer.outcomes['crash'] + peer.outcomes['timeout'] if peer else '-'} | "
        f"{'yes' if crashes == 0 else '**no**'} |"
    )
    if peer is not None:
        faster = loom.gen_seconds_total < peer.gen_seconds_total
        lines.append(
            f"| total generation time below the peer's | {loom.gen_seconds_total:.0f} s | "
            f"{peer.gen_seconds_total:.0f} s | {'yes' if faster else '**no**'} |"
        )
    return [*lines, ""]


def _top(pairs: Iterable[tuple[str, int, str, str]], limit: int) -> list[str]:
    """``(category, count, document, example)`` rows → the top categories by document count."""
    seen: dict[str, set[str]] = {}
    total: Counter[str] = Counter()
    example: dict[str, tuple[str, str]] = {}
    for category, n, doc, text in pairs:
        seen.setdefault(category, set()).add(doc)
        total[category] += n
        example.setdefault(category, (doc, text))
    docs = Counter({category: len(names) for category, names in seen.items()})
    lines = ["| category | documents | occurrences | example |", "|---|---:|---:|---|"]
    for category, n_docs in docs.most_common(limit):
        doc, text = example[category]
        cell = f"`{doc}`: {text}".replace("|", "\\|").replace("\n", " ")[:240]
        lines.append(
            f"| {category.replace('|', '/')[:120]} | {n_docs} | {total[category]} | {cell} |"
        )
    return lines if docs else ["(none)"]


_CODE = re.compile(r"^([a-z][a-z0-9-]+): ")


def _diagnostic_pairs(recs: Iterable[Record]) -> Iterable[tuple[str, int, str, str]]:
    """Diagnostics grouped by their stable code when they have one (loom's do)."""
    for r in recs:
        for category, (n, text) in dict(r.get("diagnostic_categories", {})).items():
            code = _CODE.match(str(category))
            yield code.group(1) if code else str(category), int(n), str(r["document"]), str(text)


def _failure_pairs(recs: Iterable[Record]) -> Iterable[tuple[str, int, str, str]]:
    from bench.corpus.generators import normalize

    for r in recs:
        doc = str(r["document"])
        if r["outcome"] not in PRODUCED_OUTCOMES:
            yield (
                f"generation: {r['outcome']}: {normalize(str(r.get('message', '')))}",
                1,
                doc,
                str(r.get("message", "")),
            )
            continue
        if r.get("import_ok") is False:
            summary = str(r.get("import_summary", ""))
            yield f"import: {normalize(summary)[:100]}", 1, doc, summary
        if r.get("pyright_errors") is None and r.get("pyright_message"):
            yield "pyright: did not finish", 1, doc, str(r["pyright_message"])
        for rule, (n, text) in dict(r.get("pyright_rules", {})).items():
            yield f"pyright basic: {rule}", int(n), doc, str(text)


def _strict_pairs(recs: Iterable[Record]) -> Iterable[tuple[str, int, str, str]]:
    for r in recs:
        for rule, (n, text) in dict(r.get("strict_rules", {})).items():
            yield f"pyright strict: {rule}", int(n), str(r["document"]), str(text)


def _unpaged(records: dict[str, Record], documents: Sequence[str]) -> list[str]:
    """Operations whose response looks paginated (a list, paging parameters) but that got no
    pager, from loom's ``unpaged-list`` diagnostics: each is a pattern to learn or declare."""
    per_doc: list[tuple[int, str, str]] = []
    for d in documents:
        r = records.get(d)
        if r is None:
            continue
        for category, (n, text) in dict(r.get("diagnostic_categories", {})).items():
            if str(category).startswith("unpaged-list"):
                per_doc.append((int(n), str(r["document"]), str(text)))
    total = sum(n for n, _, _ in per_doc)
    lines = [
        "## loom: list operations without a pager",
        "",
        f"{total} operations in {len(per_doc)} documents answer with a list and take paging "
        "parameters, but no declared pattern (cursor, has_more, Link, next URL, offset/limit, "
        "page with a total) fits, so they have no `*_all` pager.",
        "",
    ]
    for n, doc, text in sorted(per_doc, key=lambda x: (-x[0], x[1]))[:20]:
        lines.append(f"- `{doc}`: {n}, e.g. {text.split(':', 1)[0]}")
    return [*lines, ""]


def render(
    *,
    gens: Sequence[str],
    by_gen: dict[str, dict[str, Record]],
    documents: Sequence[str],
    header: Sequence[str],
) -> str:
    """The Markdown of ``docs/corpus.md``."""
    present = [g for g in gens if by_gen.get(g)]
    all_stats = {g: stats(by_gen[g][d] for d in documents if d in by_gen[g]) for g in present}
    lines = list(header)
    missing_gens = [g for g in gens if g not in present]
    for g in missing_gens:
        lines += [f"**{NAMES.get(g, g)}: not measured yet** (no results in this run).", ""]
    if present:
        lines += ["## Results", "", *_table(present, all_stats), "", *_targets(all_stats)]
    for g in present:
        recs = [by_gen[g][d] for d in documents if d in by_gen[g]]
        lines += [
            f"## {NAMES.get(g, g)}: top diagnostic categories",
            "",
            *_top(_diagnostic_pairs(recs), 12),
            "",
            f"## {NAMES.get(g, g)}: top failure categories",
            "",
            *_top(_failure_pairs(recs), 12),
            "",
            f"## {NAMES.get(g, g)}: pyright strict error categories (fixed sample)",
            "",
            *_top(_strict_pairs(recs), 8),
            "",
        ]
    if "loom" in present:
        lines += _unpaged(by_gen["loom"], documents)
        lines += ["## loom: every missing operation, with its reason", ""]
        missing = [
            (str(r["document"]), str(e))
            for d in documents
            if (r := by_gen["loom"].get(d)) is not None
            for e in r.get("missing_examples", [])
        ]
        lines += [f"- `{doc}`: {text}" for doc, text in missing[:150]] or ["(none)"]
        if len(missing) > 150:
            lines.append(f"- … and {len(missing) - 150} more (see the CSV)")
        lines.append("")
    return "\n".join(lines) + "\n"
