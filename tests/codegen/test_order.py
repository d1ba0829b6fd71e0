"""The renderer's import and ``__all__`` order is ruff's own (I001, RUF022), checked by ruff.

The generator runs only ``ruff format`` on its output, so these keys must agree with ruff's
isort on every name a schema can produce: mixed case, acronyms, digits with and without leading
zeros, underscores.
"""

from __future__ import annotations

import keyword
import random
import re
import string
import subprocess
import sys
from pathlib import Path

from loom.codegen.render.annotations import Imports
from loom.codegen.render.order import (
    all_sort_key,
    blank_lines_after_imports,
    from_import_lines,
    member_sort_key,
    natural_compare,
    natural_key,
)

RUFF = str(Path(sys.executable).parent / "ruff")

AWKWARD = [
    *("A", "a", "AB", "Ab", "aB", "ab", "A1", "a1", "A10", "A2", "A01", "A001", "A02"),
    *("Model2", "Model10", "Model01", "model_1", "model_10", "model_2", "_A", "_a", "__x"),
    *("_Foo", "HTTPError", "HttpError", "http_error", "X_Y", "XY", "Xy", "x_y", "NOT_GIVEN"),
    *("NotGiven", "TYPE_CHECKING", "ClassVar", "Any", "TypeAlias", "v1", "V1", "v1beta"),
    *("V1Beta", "V1beta1", "V1beta10", "V1beta2", "Foo0", "Foo00", "Foo000", "Foo9", "Foo90"),
    *("Foo09", "a_b", "a__b", "aB_c", "ABc", "ABC_d", "Abc_D", "z", "Z", "ZZ", "zz", "Z9"),
    *("z9", "Tag", "TagModel", "tag", "T", "t", "S3Bucket", "S3bucket", "s3_bucket", "I18n"),
    *("I18N", "i18n", "Get200Response", "Get20Response", "Get2xxResponse", "GetV2Item"),
]


def _identifiers(count: int, seed: int) -> list[str]:
    """Random identifiers shaped like generated names (letters, digit runs, underscores)."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + "_" + "0123456789" * 2
    names: set[str] = set()
    while len(names) < count:
        first = rng.choice(string.ascii_letters + "_")
        name = first + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        if not keyword.iskeyword(name) and not keyword.issoftkeyword(name):
            names.add(name)
    return sorted(names)


def _ruff_fix(tmp_path: Path, source: str) -> str:
    path = tmp_path / "sample.py"
    path.write_text(source, encoding="utf-8")
    subprocess.run(
        [
            RUFF,
            "check",
            "--no-cache",
            "--quiet",
            "--fix-only",
            "--select",
            "I001,RUF022",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path.read_text(encoding="utf-8")


def _names_in(text: str, pattern: str) -> list[str]:
    match = re.search(pattern, text, re.S)
    assert match is not None, text
    return [n.strip().strip("'\"") for n in match.group(1).split(",") if n.strip()]


def test_member_and_all_order_matches_ruff_when_names_are_awkward(tmp_path: Path) -> None:
    names = list(dict.fromkeys(AWKWARD + _identifiers(300, seed=7)))
    shuffled = random.Random(3).sample(names, len(names))
    fixed = _ruff_fix(
        tmp_path,
        f"from .x import ({', '.join(shuffled)})\n\n"
        f"__all__ = [{', '.join(repr(n) for n in shuffled)}]\n",
    )
    assert _names_in(fixed, r"from \.x import \((.*?)\)") == sorted(names, key=member_sort_key)
    assert _names_in(fixed, r"__all__ = \[(.*?)\]") == sorted(names, key=all_sort_key)


def test_module_order_matches_ruff_when_relative_levels_mix(tmp_path: Path) -> None:
    modules = [
        *("..types", ".models", ".m10", ".m2", ".M1", ".a", "..a", ".A", ".a_b", ".aB", ".ab"),
        *("._runtime.types", ".._runtime.models", ".._runtime.types", ".", ".resources.b"),
        *(".resources.a10", ".resources.a2", ".resources.A3", ".resources.a02"),
    ]
    shuffled = random.Random(5).sample(modules, len(modules))
    fixed = _ruff_fix(tmp_path, "".join(f"from {m} import name\n" for m in shuffled))
    ours = from_import_lines({m: ["name"] for m in modules})
    assert fixed.splitlines() == ours


def test_import_block_is_left_alone_by_ruff_when_rendered(tmp_path: Path) -> None:
    imports = Imports()
    for module, name in [
        ("typing", "TYPE_CHECKING"),
        ("typing", "ClassVar"),
        ("typing", "Any"),
        ("pydantic", "Field"),
        ("typing_extensions", "deprecated"),
        ("..types", "NOT_GIVEN"),
        ("..types", "NotGiven"),
        (".._runtime.models", "BaseModel"),
        (".model10", "Model10"),
        (".model2", "Model2"),
    ]:
        imports.add(module, name)
    imports.std["datetime as _dt"] = set()
    imports.std["builtins"] = set()
    for following in ("class A:\n    pass\n", "X = 1\n", "@dec\ndef f() -> None:\n    pass\n"):
        text = imports.render() + blank_lines_after_imports(following) + following
        assert _ruff_fix(tmp_path, text) == text


def test_natural_compare_orders_digit_runs_by_value_when_no_leading_zero() -> None:
    assert natural_compare("a2", "a10") == -1
    assert natural_compare("a10", "a2") == 1
    assert natural_compare("a01", "a1") == -1  # a leading zero compares digit by digit
    assert natural_compare("abc", "abc") == 0
    assert natural_compare("ab", "abc") == -1


def test_natural_key_orders_like_natural_compare_when_strings_are_random() -> None:
    rng = random.Random(11)
    alphabet = string.ascii_letters + "_" + "0123456789" * 3
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(3000)]
    for _ in range(50_000):
        a, b = rng.choice(words), rng.choice(words)
        ka, kb = natural_key(a), natural_key(b)
        assert natural_compare(a, b) == (ka > kb) - (ka < kb), (a, b)
