"""Regenerate the golden SDK trees under tests/codegen/golden/ (``make golden``)."""

from __future__ import annotations

import sys

from loom.codegen.config import GeneratorConfig
from loom.codegen.pipeline import generate
from tests.codegen.golden_cases import CASES, GOLDEN


def main() -> int:
    """Regenerate every golden tree; print one line per tree and a summary."""
    for name, (schema, options) in CASES.items():
        result = generate(schema, GOLDEN / name, GeneratorConfig(**options))
        print(
            f"golden {name}: {len(result.files)} files, {result.written} changed", file=sys.stderr
        )
    print(f"regenerated {len(CASES)} golden trees in {GOLDEN}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
