"""Load an OpenAPI 3.0/3.1 or Swagger 2.0 document from JSON or YAML, bundling its files.

``load_document`` is the first stage of the pipeline: it returns one document whose ``$ref``s are
all local, the OpenAPI version, a sha256 of the input for the generated files' header line, and
the files that were read. A Swagger 2.0 document (detected by content) is converted to OpenAPI
3.0.3 first (``sources.swagger2``), and diagnostics point into the 2.0 input. Problems that
stop generation raise ``FatalSchemaError`` (one line, no traceback); the rest go to the
``DiagnosticSink``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError, Severity
from loom.codegen.sources.bundle import Bundler
from loom.codegen.sources.guard import check_expansion
from loom.codegen.sources.model import SourceFile
from loom.codegen.sources.parse import MAX_DEPTH, decode_text, parse_text
from loom.codegen.sources.pointer import is_missing, parse_fragment, resolve, split_ref
from loom.codegen.sources.promote import promote_titled_variants
from loom.codegen.sources.swagger2 import (
    PointerMap,
    convert_external,
    convert_swagger,
    is_swagger,
)

__all__ = ["LoadedDocument", "load_document", "load_text"]

logger = logging.getLogger(__name__)

_VERSION = re.compile(r"^3\.([01])(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class LoadedDocument:
    """One OpenAPI document, every external ``$ref`` bundled in.

    Attributes:
        document: the document; every ``$ref`` in it is local (``#/...``).
        version: ``"3.0"`` or ``"3.1"``, from the ``openapi`` field.
        sha256: hex sha256 of the input: the entry file's bytes for a single file; for several
            files, of every file read, sorted by path relative to the entry's folder, each framed
            as ``path NUL length NUL bytes``.
        source_files: every file read, entry first.
        entry: the entry file.
        converted_from: ``"swagger-2.0"`` when the input was converted, else ``None``.
    """

    document: dict[str, Any]
    version: Literal["3.0", "3.1"]
    sha256: str
    source_files: tuple[Path, ...]
    entry: Path
    converted_from: str | None = None


def load_document(path: Path, *, sink: DiagnosticSink) -> LoadedDocument:
    """Load an OpenAPI document from a file and bundle the files it references.

    Args:
        path: the entry file (JSON or YAML, detected by content).
        sink: receives recoverable problems (remote references, renamed components, …).

    Returns:
        The bundled document.

    Raises:
        FatalSchemaError: unreadable or unparseable input, not OpenAPI 3.0/3.1, no ``paths``,
            or a ``$ref`` into another file that does not resolve (one inside the document is a
            diagnostic: an error when an operation uses it, a warning otherwise).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FatalSchemaError(f"{path}: no such file; check the schema path") from None
    except IsADirectoryError:
        raise FatalSchemaError(f"{path}: is a folder; give the entry file of the schema") from None
    except OSError as exc:
        raise FatalSchemaError(f"{path}: cannot read the file: {exc.strerror}") from None
    resolved = path.resolve()
    return _load(data, name=str(path), entry_path=resolved, base_dir=resolved.parent, sink=sink)


def load_text(
    text: str, *, name: str = "<string>", sink: DiagnosticSink, base_dir: Path | None = None
) -> LoadedDocument:
    """Load an OpenAPI document from text (tests, hooks, documents fetched by the caller).

    Args:
        text: JSON or YAML.
        name: what error messages call the text.
        sink: receives recoverable problems.
        base_dir: the folder that relative file ``$ref``s are resolved from; without it a
            ``$ref`` to a file is a fatal error.

    Returns:
        The bundled document.

    Raises:
        FatalSchemaError: as for ``load_document``.
    """
    folder = base_dir.resolve() if base_dir is not None else None
    entry_path = folder / name if folder is not None else Path(name)
    return _load(text.encode(), name=name, entry_path=entry_path, base_dir=folder, sink=sink)


def _load(
    data: bytes, *, name: str, entry_path: Path, base_dir: Path | None, sink: DiagnosticSink
) -> LoadedDocument:
    root = parse_text(decode_text(data, name=name), name=name)
    if isinstance(root, dict) and is_swagger(cast("dict[str, Any]", root)):
        converted = convert_swagger(
            cast("dict[str, Any]", root), name=name, sink=sink, base_dir=base_dir
        )
        # From here on, pointers of the converted document are reported as the input's.
        sink.translate = converted.pointers.original
        try:
            return _load_openapi(
                converted.document,
                data,
                name=name,
                entry_path=entry_path,
                base_dir=base_dir,
                sink=sink,
                converted=converted.pointers,
            )
        except FatalSchemaError as exc:
            if exc.pointer is None:
                raise
            raise FatalSchemaError(
                exc.message, pointer=converted.pointers.original(exc.pointer)
            ) from None
    return _load_openapi(root, data, name=name, entry_path=entry_path, base_dir=base_dir, sink=sink)


def _load_openapi(
    root: Any,
    data: bytes,
    *,
    name: str,
    entry_path: Path,
    base_dir: Path | None,
    sink: DiagnosticSink,
    converted: PointerMap | None = None,
) -> LoadedDocument:
    version = _check_version(root, name=name, sink=sink)
    document = cast("dict[str, Any]", root)
    _check_paths(document, version, name=name, sink=sink)
    entry = SourceFile(path=entry_path, label="", data=data, root=document)
    bundler = Bundler(entry=entry, sink=sink, base_dir=base_dir)
    if converted is not None:
        bundler.transform = convert_external
        bundler.entry_pointer = converted.converted
    if _needs_bundling(document, name=name):
        try:
            document = bundler.run()
        except RecursionError:  # nesting is bounded, but the caller's own stack may be deep
            raise FatalSchemaError(
                f"{name}: the document nests too deeply to bundle; flatten it"
            ) from None
        _check_internal_refs(document, bundler.internal_refs, sink)
        if len(bundler.files) > 1:
            promote_titled_variants(document)
    files = list(bundler.files.values())
    logger.debug("loaded %s: OpenAPI %s, %d file(s)", name, version, len(files))
    return LoadedDocument(
        document=document,
        version=version,
        sha256=_sha256(files, base_dir=base_dir),
        source_files=tuple(f.path for f in files),
        entry=entry_path,
        converted_from=None if converted is None else "swagger-2.0",
    )


def _check_version(root: Any, *, name: str, sink: DiagnosticSink) -> Literal["3.0", "3.1"]:
    if not isinstance(root, dict):
        kind = "an array" if isinstance(root, list) else f"a {type(root).__name__} value"
        raise FatalSchemaError(
            f"{name}: the document is {kind}, not an object; an OpenAPI document is a mapping "
            "with `openapi`, `info` and `paths`"
        )
    root = cast("dict[str, Any]", root)
    raw = root.get("openapi")
    if raw is None:
        raise FatalSchemaError(
            f"{name}: there is no `openapi` field, so this is not an OpenAPI 3 document; "
            "add `openapi: 3.0.3` (or `3.1.0`) at the top"
        )
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        sink.add(
            "#/openapi",
            f"`openapi` is the number {raw}; write it as a string (`openapi: '{raw}'`)",
            code="openapi-version",
        )
        raw = str(raw)
    match = _VERSION.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise FatalSchemaError(
            f"{name}: OpenAPI {raw} is not supported; loom reads OpenAPI 3.0.x and 3.1.x"
        )
    return "3.0" if match.group(1) == "0" else "3.1"


def _check_paths(
    root: dict[str, Any], version: Literal["3.0", "3.1"], *, name: str, sink: DiagnosticSink
) -> None:
    paths = root.get("paths")
    if paths is None:
        if version == "3.1" and ("webhooks" in root or "components" in root):
            sink.add(
                "#/paths",
                "the document has no `paths`, so the SDK has no operations, only models",
                code="no-paths",
            )
            return
        needed = (
            "requires `paths`" if version == "3.0" else "needs `paths`, `webhooks` or `components`"
        )
        raise FatalSchemaError(
            f"{name}: the document has no `paths`; OpenAPI {version} {needed} "
            "(add `paths: {}` if the API really has no operations)"
        )
    if not isinstance(paths, dict):
        raise FatalSchemaError(
            f"{name}: `paths` is a {type(paths).__name__}; it must be a mapping from path to "
            "path item (`/pets: {get: ...}`)"
        )


def _needs_bundling(root: dict[str, Any], *, name: str) -> bool:
    """Fast check: any ``$ref`` that is not local, or local but unresolvable, or deep nesting.

    Most documents are already bundled; for them this scan is the only walk, and the document is
    returned as parsed. Anything suspicious goes through the bundler, which knows where each
    ``$ref`` sits and reports precise locations. Objects shared through YAML aliases are scanned
    once, and their expanded size is checked.
    """
    refs: set[str] = set()
    seen: set[int] = {id(root)}
    shared = deep = False
    # Level by level: one list per depth and C-speed set operations keep this walk cheaper
    # than parsing the document (it runs on every generation).
    level: list[Any] = [root]
    depth = 0
    while level:
        if depth > MAX_DEPTH:
            deep = True  # the bundler reports where; no need to look further down
            break
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                mapping = cast("dict[str, Any]", node)
                ref = mapping.get("$ref")
                if isinstance(ref, str):
                    refs.add(ref)
                below.extend([v for v in mapping.values() if isinstance(v, dict | list)])
            else:
                below.extend([v for v in cast("list[Any]", node) if isinstance(v, dict | list)])
        ids = set(map(id, below))
        if len(ids) != len(below) or not seen.isdisjoint(ids):
            shared = True  # YAML aliases: walk each object once
            first: dict[int, Any] = {}
            for value in below:
                if id(value) not in seen:
                    first.setdefault(id(value), value)
            below = list(first.values())
            ids = set(first)
        seen |= ids
        level = below
        depth += 1
    if shared:
        check_expansion(root, name=name)
    if deep:
        return True
    for ref in refs:
        file_part, fragment = split_ref(ref)
        if file_part:
            return True
        try:
            if is_missing(resolve(root, parse_fragment(fragment))):
                return True
        except ValueError:
            return True
    return False


def _check_internal_refs(
    document: dict[str, Any], refs: list[tuple[str, str]], sink: DiagnosticSink
) -> None:
    """Report every ``$ref`` inside the document that points nowhere, in one run.

    One used by an operation (reachable from ``paths`` or ``webhooks``) is an error: that schema
    falls back to ``Any``, or that parameter or response is skipped. One in a component nothing
    uses is a warning. Generation goes on either way.
    """
    dangling: list[tuple[str, str]] = []
    checked: dict[str, bool] = {}
    for ref, location in refs:
        if ref not in checked:
            _, fragment = split_ref(ref)
            try:
                tokens = parse_fragment(fragment)
            except ValueError as exc:  # an anchor, not a pointer: loom cannot follow it at all
                raise FatalSchemaError(
                    f"$ref {ref!r} has an invalid JSON pointer: {exc}", pointer=location
                ) from None
            checked[ref] = not is_missing(resolve(document, tokens))
        if not checked[ref]:
            dangling.append((ref, location))
    if not dangling:
        return
    used = _used_targets(document)
    for ref, location in dangling:
        if _is_used(location, used):
            sink.add(
                location,
                f"$ref {ref!r} does not resolve: the document has nothing at {ref}; the schema "
                "falls back to Any (a parameter, body or response is skipped); fix the pointer "
                "or add the component",
                code="dangling-ref",
                severity=Severity.ERROR,
            )
        else:
            sink.add(
                location,
                f"$ref {ref!r} does not resolve; no operation uses this component, so the SDK "
                "is not affected",
                code="dangling-ref",
                severity=Severity.WARNING,
            )


def _used_targets(document: dict[str, Any]) -> set[str]:
    """Pointers of every ``$ref`` target reachable from ``paths`` and ``webhooks``."""
    targets: set[str] = set()
    stack: list[Any] = [document.get("paths"), document.get("webhooks")]
    seen: set[int] = set()
    while stack:
        node: object = stack.pop()
        if isinstance(node, list):
            stack.extend(cast("list[Any]", node))
            continue
        if not isinstance(node, dict):
            continue
        mapping = cast("dict[str, Any]", node)
        if id(mapping) in seen:
            continue
        seen.add(id(mapping))
        ref = mapping.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and ref not in targets:
            targets.add(ref)
            with contextlib.suppress(ValueError):
                target: Any = resolve(document, parse_fragment(ref[1:]))
                stack.append(target)
        stack.extend(mapping.values())
    return targets


def _is_used(location: str, used: set[str]) -> bool:
    if location.startswith(("#/paths/", "#/webhooks/")):
        return True
    parts = location.split("/")
    return any("/".join(parts[:i]) in used for i in range(2, len(parts) + 1))


def _sha256(files: list[SourceFile], *, base_dir: Path | None) -> str:
    if len(files) == 1:
        return hashlib.sha256(files[0].data).hexdigest()
    digest = hashlib.sha256()
    for relative, data in sorted((_relative(f.path, base_dir), f.data) for f in files):
        digest.update(relative.encode())
        digest.update(b"\0%d\0" % len(data))
        digest.update(data)
    return digest.hexdigest()


def _relative(path: Path, base_dir: Path | None) -> str:
    if base_dir is None:
        return path.as_posix()
    try:
        return path.relative_to(base_dir).as_posix()
    except ValueError:
        return path.as_posix()
