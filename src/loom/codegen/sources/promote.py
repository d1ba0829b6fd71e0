"""Give titled inline variants of component unions a component of their own (multi-file only).

Multi-file specs are usually bundled by a tool before anyone generates code from them, and the
bundled form is what users know the model names from. Camunda's bundler
(``camunda-schema-bundler``, whose output is ``examples/camunda/rest-api.bundle.json``) moves each
inline ``oneOf``/``anyOf`` variant of a component schema that has a ``title`` and some structure
(``properties``, ``enum`` or ``allOf``) into ``components/schemas``:

- ``<Base>FilterProperty`` with an "Exact match" variant → ``<Base>ExactMatch``;
- any other titled variant → ``<Parent><Title without spaces>``.

loom applies the same rule when it bundles several files itself, so that generating from the
upstream files and generating from the published bundle give the same model names. A single-file
document is never changed: its inline variants are named by the IR from where they sit.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

logger = logging.getLogger(__name__)

_EXACT_MATCH = re.compile(r"exact\s*match", re.IGNORECASE)
_FILTER_PROPERTY = "FilterProperty"


def promote_titled_variants(document: dict[str, Any]) -> list[str]:
    """Move titled inline union variants of component schemas into ``components/schemas``.

    Args:
        document: a bundled OpenAPI document; changed in place.

    Returns:
        The names of the new component schemas, in the order they were added.
    """
    components = document.get("components")
    if not isinstance(components, dict):
        return []
    schemas = cast("dict[str, Any]", components).get("schemas")
    if not isinstance(schemas, dict):
        return []
    schemas = cast("dict[str, Any]", schemas)
    added: dict[str, Any] = {}
    for parent_name, parent in list(schemas.items()):
        if not isinstance(parent, dict):
            continue
        parent = cast("dict[str, Any]", parent)
        for union in ("oneOf", "anyOf"):
            variants = parent.get(union)
            if not isinstance(variants, list):
                continue
            variants = cast("list[Any]", variants)
            for index, variant in enumerate(variants):
                name = _promoted_name(parent_name, variant)
                if name is None:
                    continue
                unique, number = name, 1
                while unique in schemas or unique in added:
                    number += 1
                    unique = f"{name}{number}"
                added[unique] = variant
                variants[index] = {"$ref": f"#/components/schemas/{unique}"}
    schemas.update(added)
    if added:
        logger.debug("promoted %d titled inline union variants to components", len(added))
    return list(added)


def _promoted_name(parent_name: str, variant: Any) -> str | None:
    if not isinstance(variant, dict) or "$ref" in variant:
        return None
    variant = cast("dict[str, Any]", variant)
    if not ("properties" in variant or "enum" in variant or "allOf" in variant):
        return None
    title = variant.get("title")
    if not isinstance(title, str) or not title.strip():
        return None
    if parent_name.endswith(_FILTER_PROPERTY) and _EXACT_MATCH.search(title):
        return parent_name[: -len(_FILTER_PROPERTY)] + "ExactMatch"
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "", "".join(title.split()))
    return f"{parent_name}{cleaned}" if cleaned else None
