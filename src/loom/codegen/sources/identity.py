"""When two ``$ref`` targets are the same component: equal content, equal reference targets.

Two files that both define ``Money`` identically should give one ``Money`` component, not
``Money`` and ``Money2``. Content is compared with every ``$ref`` replaced by the absolute
location it resolves to, so two definitions that look alike but reference different things
are never merged (they may get a suffix that was not strictly needed; that is the safe side).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from loom.codegen.sources.model import Budget, Key, SourceFile
from loom.codegen.sources.parse import MAX_DEPTH
from loom.codegen.sources.pointer import is_remote, resolve, split_ref


@dataclass
class ContentIdentity:
    """Canonical forms of ``$ref`` targets, cached per target."""

    files: dict[Path, SourceFile]
    entry: SourceFile
    base_dir: Path | None
    budget: Budget
    _cache: dict[Key, Any] = field(default_factory=dict[Key, Any])

    def canonical(self, key: Key) -> Any:
        """The target's content with each ``$ref`` made absolute (``/abs/file.yaml#/ptr``)."""
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        path, tokens = key
        source = self.files[path]
        canonical = self._canonicalize(resolve(source.root, tokens), source, 0)
        self._cache[key] = canonical
        return canonical

    def _canonicalize(self, node: Any, source: SourceFile, depth: int) -> Any:
        self.budget.spend(source.label, None)
        if depth > MAX_DEPTH:
            return None
        if isinstance(node, dict):
            mapping = cast("dict[str, Any]", node)
            ref = mapping.get("$ref")
            out = {
                key: self._canonicalize(value, source, depth + 1)
                for key, value in mapping.items()
                if key != "$ref"
            }
            if isinstance(ref, str):
                out["$ref"] = self._absolute(ref, source)
            return out
        if isinstance(node, list):
            return [self._canonicalize(item, source, depth + 1) for item in cast("list[Any]", node)]
        return node

    def _absolute(self, ref: str, source: SourceFile) -> str:
        file_part, fragment = split_ref(ref)
        if not file_part:
            return f"{source.path.as_posix()}#{unquote(fragment)}"
        folder = source.path.parent if source is not self.entry else self.base_dir
        if is_remote(file_part) or folder is None:
            return ref
        return f"{(folder / unquote(file_part)).resolve().as_posix()}#{unquote(fragment)}"
