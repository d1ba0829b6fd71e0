"""The golden SDKs: small schemas whose generated trees are committed and reviewed as diffs.

Regenerate them only with ``make golden`` (``python -m tests.codegen.regenerate_golden``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent
FIXTURES = ROOT.parent / "fixtures" / "codegen"
GOLDEN = ROOT / "golden"

CASES: dict[str, tuple[Path, dict[str, Any]]] = {
    "petstore": (FIXTURES / "petstore.yaml", {"package": "petstore"}),
    "petstore_flat": (
        FIXTURES / "petstore.yaml",
        {"package": "petstore_flat", "layout": "flat", "error_classes": "per-operation"},
    ),
    "shapes": (FIXTURES / "shapes.json", {"package": "shapes", "env_prefix": "SHAPES"}),
    # flat layout of a schema with date-time parameters: the client module imports them itself
    "shapes_flat": (
        FIXTURES / "shapes.json",
        {"package": "shapes_flat", "layout": "flat", "env_prefix": "SHAPES"},
    ),
    "collisions": (FIXTURES / "collisions.yaml", {"package": "collisions"}),
    # [worker] adapter = "camunda": _runtime/worker is vendored and AsyncClient has job workers
    "camunda_jobs": (
        FIXTURES / "camunda_jobs.json",
        {
            "package": "camunda_jobs",
            "env_prefix": "CAMUNDA",
            "base_url_suffix": "/v2",
            "worker_adapter": "camunda",
        },
    ),
    # components and no paths (OpenAPI 3.1): a models-only package, no client
    "models_only": (FIXTURES / "models_only.json", {"package": "models_only"}),
    # issue 17 item 7: strict-clean without models, with list[list[Enum]] defaults, numeric const
    "no_models": (FIXTURES / "no_models.yaml", {"package": "no_models"}),
    "nested_enum_lists": (FIXTURES / "nested_enum_lists.yaml", {"package": "nested_enum_lists"}),
    "numeric_const": (FIXTURES / "numeric_const.yaml", {"package": "numeric_const"}),
    # issue 17 item 8: date, date-time, time, uuid, alias, enum and container defaults
    "defaults": (FIXTURES / "defaults.yaml", {"package": "defaults"}),
    # a Swagger 2.0 document (converted by loom): collection formats, formData, file responses
    "swagger2_store": (
        ROOT.parent / "fixtures" / "swagger2" / "e2e" / "store.yaml",
        {"package": "swagger2_store"},
    ),
}
