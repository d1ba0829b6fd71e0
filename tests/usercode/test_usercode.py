"""User code type-checks against the generated SDKs, and the mistakes it holds are caught.

``examples/<golden>_usage.py`` exercise each golden SDK (every kind of operation, pagination,
raw responses, errors, semantic id types) and end with mistakes that must fail; the fenced
``python`` blocks of README.md and docs/ (except those marked ``python generated``, which show
generated code) and ``examples/camunda_usage.py`` are checked against the Camunda SDK. Each
checker runs once over all the files of a group.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from loom.codegen.config import load_config
from loom.codegen.pipeline import generate
from tests.codegen.golden_cases import GOLDEN
from tests.usercode.checker import Finding, check, mypy_findings, pyright_findings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).parent / "examples"
CAMUNDA = ROOT / "examples" / "camunda"
GOLDEN_EXAMPLES = sorted(
    p.stem.removesuffix("_usage")
    for p in EXAMPLES.glob("*_usage.py")
    if (GOLDEN / p.stem.removesuffix("_usage")).is_dir()
)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
TOOLS = ("pyright", "mypy")


def doc_snippets() -> list[tuple[str, str]]:
    """``(name, code)`` of every fenced ``python`` block of the README and docs."""
    out: list[tuple[str, str]] = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for i, match in enumerate(_FENCE.finditer(text), start=1):
            out.append((f"{path.stem.replace('-', '_')}_{i}", match.group(1)))
    return out


def _as_module(code: str) -> str:
    """A snippet as a module: its statements in an ``async def`` (snippets may ``await``)."""
    return "async def snippet() -> None:\n" + textwrap.indent(code, "    ") + "\n"


def _findings(files: list[Path], extra: list[Path], workdir: Path) -> dict[str, list[Finding]]:
    return {
        "pyright": pyright_findings(files, extra, workdir),
        "mypy": mypy_findings(files, extra, workdir),
    }


@pytest.fixture(scope="module")
def golden_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    files = [EXAMPLES / f"{name}_usage.py" for name in GOLDEN_EXAMPLES]
    return _findings(files, [GOLDEN / n for n in GOLDEN_EXAMPLES], tmp_path_factory.mktemp("g"))


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("name", GOLDEN_EXAMPLES)
def test_golden_examples_type_check_and_fail_where_expected(
    golden_findings: dict[str, list[Finding]], name: str, tool: str
) -> None:
    path = (EXAMPLES / f"{name}_usage.py").resolve()
    found = [f for f in golden_findings[tool] if f.file == path]
    problems = check([path], found, tool)
    assert problems == [], "\n".join(problems)


def test_every_golden_sdk_has_an_examples_file() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == GOLDEN_EXAMPLES


@pytest.fixture(scope="module")
def camunda_checked(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[Path], dict[str, list[Finding]]]:
    work = tmp_path_factory.mktemp("camunda")
    sdk = work / "sdk"
    generate(CAMUNDA / "rest-api.bundle.json", sdk, load_config(CAMUNDA / "loom.toml"))
    files = [EXAMPLES / "camunda_usage.py"]
    for name, code in doc_snippets():
        path = work / f"snippet_{name}.py"
        path.write_text(_as_module(code), encoding="utf-8")
        files.append(path)
    return files, _findings(files, [sdk], work)


@pytest.mark.slow
@pytest.mark.parametrize("tool", TOOLS)
def test_readme_docs_and_camunda_examples_type_check_and_fail_where_expected(
    camunda_checked: tuple[list[Path], dict[str, list[Finding]]], tool: str
) -> None:
    files, findings = camunda_checked
    problems = check(files, findings[tool], tool)
    assert problems == [], "\n".join(problems)


def test_docs_hold_python_examples() -> None:
    names = [name for name, _ in doc_snippets()]
    assert any(n.startswith("README") for n in names), names
