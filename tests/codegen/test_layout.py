"""Text the generator marks as formatted is exactly what ``ruff format`` writes.

Model modules and the runtime skip the formatting pass (``Plan.formatted``): their string
literals, wrapped ``Field(...)`` lines, imports and docstrings must be ruff's own, checked here
against ruff itself on random input and on every model module of real schemas.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError
from loom.codegen.ir.build import build_api
from loom.codegen.pipeline import _runtime_sources  # pyright: ignore[reportPrivateUsage]
from loom.codegen.pyliteral import py_string
from loom.codegen.render import layout
from loom.codegen.render.annotations import docstring
from loom.codegen.render.layout import LINE_LENGTH, call_statement, from_import
from loom.codegen.render.plan import Plan, plan_files
from loom.codegen.sources import load_document
from tests.codegen.golden_cases import CASES

ROOT = Path(__file__).resolve().parents[2]
RUFF = str(Path(sys.executable).parent / "ruff")
PYPROJECT = f'[tool.ruff]\nline-length = {LINE_LENGTH}\ntarget-version = "py311"\n'


def _ruff(files: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``files`` after ``ruff format`` with the SDK's settings."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run([RUFF, "format", "--no-cache", "--quiet", "."], cwd=tmp_path, check=True)
    return {rel: (tmp_path / rel).read_text(encoding="utf-8") for rel in files}


def _changed(files: dict[str, str], tmp_path: Path) -> list[str]:
    formatted = _ruff(files, tmp_path)
    return [rel for rel, text in files.items() if formatted[rel] != text]


def test_string_literals_use_ruffs_quotes_and_escapes(tmp_path: Path) -> None:
    rng = random.Random(7)
    alphabet = ["a", "Z", "'", '"', "\\", "\n", "\t", "\x00", "\x7f", "é", "漢", "\u2028", " ", "{"]
    texts = ["", "a", "it's", 'say "hi"', "a'b\"c", "a''b\"c", 'a\'b""c', "\\", "\ud800"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(300)]
    source = "".join(f"x = {py_string(text)}\n" for text in texts)
    assert _changed({"strings.py": source}, tmp_path) == []
    assert [ast.literal_eval(py_string(text)) for text in texts] == texts  # means the same


def test_field_calls_and_imports_are_split_as_ruff_splits_them(tmp_path: Path) -> None:
    rng = random.Random(11)
    lines: list[str] = []
    for _ in range(400):
        name = "f" * rng.randint(1, 40)
        ann = "T" * rng.randint(1, 50) + " | None"
        args = [f'k{i}="{"v" * rng.randint(1, 45)}"' for i in range(rng.randint(1, 4))]
        call = call_statement(f"    {name}: {ann} = Field", args, "    ")
        if call is not None:
            lines.append(call)
    imports: list[str] = []
    for _ in range(200):
        module = "." + "m" * rng.randint(1, 70)
        names = [f"N{i}" * rng.randint(1, 12) for i in range(rng.randint(1, 4))]
        imports.append(from_import(module, names))
    source = "\n".join(imports) + "\n\n\nclass C:\n" + "\n".join(lines) + "\n"
    assert _changed({"calls.py": source}, tmp_path) == []


def test_class_docstrings_are_dedented_as_ruff_does(tmp_path: Path) -> None:
    texts = ["One.\n  two\n    three  \n\n  four", "One.\nless\n  more", "A long line. " * 12]
    classes = [f"class C{i}:\n{docstring(t, '    ', dedent=True)}" for i, t in enumerate(texts)]
    assert _changed({"docs.py": "\n\n\n".join(classes) + "\n"}, tmp_path) == []


def _schemas() -> list[Path]:
    fixtures = ROOT / "tests" / "fixtures"
    corpus = [
        path
        for folder in ("corpus_subset", "corpus_regressions")
        for path in sorted((fixtures / folder).iterdir())
        if path.suffix in {".json", ".yaml"}
    ]
    goldens = sorted({schema for schema, _ in CASES.values()})
    return [ROOT / "examples" / "camunda" / "rest-api.bundle.json", *goldens, *corpus]


def _plans(schema: Path, package: str) -> tuple[Plan, Plan] | None:
    """The files of ``schema``'s SDK with statements split by loom, and on one line each."""
    sink = DiagnosticSink()
    try:
        document = load_document(schema, sink=sink).document
        config = GeneratorConfig(package=package)
        api = build_api(document, config, sink)
    except FatalSchemaError:
        return None
    runtime = _runtime_sources(worker=False)
    plan = plan_files(api, config, "# header", runtime_files=runtime)
    layout.SPLIT = False
    try:
        one_line = plan_files(api, config, "# header", runtime_files=runtime)
    finally:
        layout.SPLIT = True
    return plan, one_line


@pytest.mark.slow
@pytest.mark.xdist_group("layout_corpus")
def test_every_file_marked_formatted_is_what_ruff_makes_of_it(tmp_path: Path) -> None:
    marked: dict[str, str] = {}
    one_line: dict[str, str] = {}
    for index, schema in enumerate(_schemas()):
        plans = _plans(schema, f"sdk{index}")
        if plans is None:
            continue
        marked.update({rel: plans[0].files[rel] for rel in plans[0].formatted})
        one_line.update({rel: plans[1].files[rel] for rel in plans[0].formatted})
    assert len(marked) > 2000  # most modules skip the formatting pass...
    formatted = _ruff(one_line, tmp_path)
    wrong = [rel for rel, text in marked.items() if formatted[rel] != text]
    assert wrong == []  # ...and ruff, left to split them itself, writes them the same
