"""Bundle a multi-file OpenAPI document into one document whose ``$ref``s are all local.

A ``$ref`` to another file (``common.yaml#/components/schemas/Problem``, ``pet.json``,
``../x/y.yaml#/Pet``) is resolved relative to the file that contains it. Its target is copied
into ``components/<section>/<Name>`` of the result and the ``$ref`` now points there:

- a target that sits at ``components/<section>/<Name>`` of its file keeps ``<Name>`` and section;
- any other target takes the section from where the ``$ref`` is used (a schema, a response, …)
  and its name from its last pointer token, or from the file name for a whole-file ``$ref``;
- two different targets that want one name get ``Name2``, ``Name3``… and an info diagnostic;
  a target whose content and references are identical to the holder of the name shares it;
- path items referenced from ``paths``, ``webhooks`` or callbacks are copied in place;
- remote references (``http:`` …) are never fetched: a warning, and the ``$ref`` becomes ``{}``;
- every component a read file declares is bundled, referenced or not;
- hoisted components follow the entry's own, sorted by file path and then by their order in
  the file, so the result does not depend on the order in which references are met.

Targets are processed from a queue, so circular references stay references and recursion depth
is bounded by nesting, not by the length of reference chains.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError, Severity
from loom.codegen.sources import kinds as k
from loom.codegen.sources.guard import check_expansion
from loom.codegen.sources.identity import ContentIdentity
from loom.codegen.sources.model import (
    Budget,
    Key,
    Loc,
    SourceFile,
    loc_of,
    sanitize_name,
    where,
)
from loom.codegen.sources.parse import MAX_DEPTH, decode_text, parse_text
from loom.codegen.sources.pointer import (
    format_pointer,
    is_missing,
    is_remote,
    parse_fragment,
    resolve,
    split_ref,
)

logger = logging.getLogger(__name__)

_NEVER_REFS = frozenset({k.ROOT, k.COMPONENTS, k.PATHS, k.RESPONSES})
"""Objects that cannot be a Reference Object (a callback can, so it is not listed)."""


@dataclass
class _Pending:
    section: str
    name: str
    file: SourceFile
    node: Any
    kind: str
    loc: Loc


@dataclass
class Bundler:
    """Bundles one entry document and the files it references; see the module docstring."""

    entry: SourceFile
    sink: DiagnosticSink
    base_dir: Path | None
    transform: Callable[[Any], Any] | None = None
    """Applied to each referenced file once parsed (Swagger 2.0 input converts their schemas)."""
    entry_pointer: Callable[[str], str] | None = None
    """Where a pointer into the entry *as written* is in the entry given (a converted one)."""
    files: dict[Path, SourceFile] = field(default_factory=dict[Path, SourceFile])
    internal_refs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    budget: Budget = field(default_factory=Budget)
    _registry: dict[Key, tuple[str, str]] = field(default_factory=dict[Key, tuple[str, str]])
    _taken: dict[str, dict[str, Key]] = field(default_factory=dict[str, dict[str, Key]])
    _extra: dict[str, dict[str, Any]] = field(default_factory=dict[str, dict[str, Any]])
    _queue: deque[_Pending] = field(default_factory=deque[_Pending])
    _inlining: set[Key] = field(default_factory=set[Key])
    _adopted: dict[tuple[str, str], tuple[SourceFile, tuple[str, ...], Any]] = field(
        default_factory=dict[tuple[str, str], tuple[SourceFile, tuple[str, ...], Any]]
    )
    _order: dict[tuple[str, str], tuple[str, int]] = field(
        default_factory=dict[tuple[str, str], tuple[str, int]]
    )
    _positions: dict[tuple[Path, str], dict[str, int]] = field(
        default_factory=dict[tuple[Path, str], dict[str, int]]
    )
    _by_ref: dict[tuple[int, str], SourceFile] = field(
        default_factory=dict[tuple[int, str], SourceFile]
    )

    def __post_init__(self) -> None:
        self.files[self.entry.path] = self.entry
        self._identity = ContentIdentity(
            files=self.files, entry=self.entry, base_dir=self.base_dir, budget=self.budget
        )
        root = cast("dict[str, Any]", self.entry.root)
        components = root.get("components")
        if isinstance(components, dict):
            for section, entries in cast("dict[str, Any]", components).items():
                if isinstance(entries, dict):
                    taken = self._taken.setdefault(section, {})
                    for name in cast("dict[str, Any]", entries):
                        taken[name] = (self.entry.path, ("components", section, name))

    def run(self) -> dict[str, Any]:
        """Bundle and return the new document (the source trees are not modified)."""
        self._adopt_declarations()
        out = cast("dict[str, Any]", self._walk(self.entry.root, self.entry, k.ROOT, None, 0))
        declared: set[Path] = {self.entry.path}
        while True:
            while self._queue:
                item = self._queue.popleft()
                self._extra[item.section][item.name] = self._walk(
                    item.node, item.file, item.kind, item.loc, 0
                )
            fresh = [f for f in self.files.values() if f.path not in declared]
            if not fresh:
                break
            for source in fresh:
                declared.add(source.path)
                self._declare_components(source)
        if self._extra:
            components = cast("dict[str, Any]", dict(out.get("components") or {}))
            for section, added in self._extra.items():
                merged = dict(cast("dict[str, Any]", components.get(section) or {}))
                order = {name: self._order[section, name] for name in added}
                for name in sorted(added, key=order.__getitem__):
                    merged[name] = added[name]
                components[section] = merged
            out["components"] = components
        return out

    # -- walking -------------------------------------------------------------------------------

    def _walk(self, node: Any, file: SourceFile, kind: str, loc: Loc, depth: int) -> Any:
        self.budget.spend(file.label, loc)
        if kind == k.DATA:
            return node
        if depth > MAX_DEPTH:
            raise FatalSchemaError(
                f"the document nests deeper than {MAX_DEPTH} levels here; flatten it",
                pointer=where(file.label, loc),
            )
        if isinstance(node, dict):
            return self._walk_dict(cast("dict[str, Any]", node), file, kind, loc, depth)
        if isinstance(node, list):
            items = cast("list[Any]", node)
            if kind.startswith(k.LIST_PREFIX):
                kind = kind[len(k.LIST_PREFIX) :]
            elif kind != k.SCHEMA:  # `items: [..]` (draft 4 tuples) is a list of schemas
                return items
            walked: list[Any] = [
                self._walk(item, file, kind, (loc, i), depth + 1) for i, item in enumerate(items)
            ]
            return walked
        return node

    def _walk_dict(
        self, node: dict[str, Any], file: SourceFile, kind: str, loc: Loc, depth: int
    ) -> Any:
        if kind.startswith(k.SECTION_PREFIX):
            return self._walk_section(node, file, kind[len(k.SECTION_PREFIX) :], loc, depth)
        if kind.startswith(k.MAP_PREFIX):
            inner = kind[len(k.MAP_PREFIX) :]
            return {
                key: self._walk(value, file, inner, (loc, key), depth + 1)
                for key, value in node.items()
            }
        ref = node.get("$ref")
        if isinstance(ref, str) and kind not in _NEVER_REFS:
            return self._ref(node, ref, file, kind, loc=loc, depth=depth)
        if kind in k.MAPS_WITH_EXTENSIONS:
            inner = k.ENTRY_OF_MAP[kind]
            return {
                key: value
                if key.startswith("x-")
                else self._walk(value, file, inner, (loc, key), depth + 1)
                for key, value in node.items()
            }
        if kind == k.DISCRIMINATOR:
            return self._discriminator(node, file, loc)
        children = k.CHILDREN.get(kind, {})
        return {
            key: self._walk(value, file, children.get(key, k.DATA), (loc, key), depth + 1)
            for key, value in node.items()
        }

    def _walk_section(
        self, node: dict[str, Any], file: SourceFile, inner: str, loc: Loc, depth: int
    ) -> dict[str, Any]:
        section = k.SECTION_OF_KIND[inner]
        out: dict[str, Any] = {}
        for name, value in node.items():
            adopted = self._adopted.get((section, name)) if file is self.entry else None
            if adopted is None:
                out[name] = self._walk(value, file, inner, (loc, name), depth + 1)
            else:
                target_file, tokens, target = adopted
                out[name] = self._walk(target, target_file, inner, loc_of(tokens), 0)
        return out

    def _adopt_declarations(self) -> None:
        """Let ``components/schemas/Pet: {$ref: pet.yaml}`` in the entry name its target ``Pet``.

        Declaring components by reference to files is the usual way to split a document; the
        target then takes the declared name and is copied in place instead of becoming a
        ``Pet`` → ``pet`` alias (or ``Pet`` → ``Pet2`` when the file's own component is also
        called ``Pet``). A target that is a component with another name in its file keeps that
        name, and the declaration stays an alias; a target declared twice keeps the first name.
        """
        components = cast("dict[str, Any]", self.entry.root).get("components")
        if not isinstance(components, dict):
            return
        for section, entries in cast("dict[str, Any]", components).items():
            if section not in k.KIND_OF_SECTION or not isinstance(entries, dict):
                continue
            for name, node in cast("dict[str, Any]", entries).items():
                if not isinstance(node, dict) or list(cast("dict[str, Any]", node)) != ["$ref"]:
                    continue
                ref = cast("dict[str, Any]", node)["$ref"]
                if not isinstance(ref, str):
                    continue
                file_part, fragment = split_ref(ref)
                if not file_part or is_remote(file_part):
                    continue
                loc: Loc = (((None, "components"), section), name)
                target_file = self._target_file(self.entry, file_part, ref, loc)
                if target_file is self.entry:
                    continue
                try:
                    tokens = parse_fragment(fragment)
                except ValueError:
                    continue  # reported with its location when the walk reaches it
                target = resolve(target_file.root, tokens)
                key: Key = (target_file.path, tokens)
                if is_missing(target) or key in self._registry:
                    continue
                named = (
                    len(tokens) == 3
                    and tokens[0] == "components"
                    and tokens[1] in k.KIND_OF_SECTION
                )
                if named and tokens[2] != name:
                    continue  # `Root: {$ref: common.yaml#/.../Used}` stays an alias of `Used`
                self._registry[key] = (section, name)
                self._adopted[section, name] = (target_file, tokens, target)

    def _siblings(
        self, node: dict[str, Any], file: SourceFile, kind: str, loc: Loc, depth: int
    ) -> dict[str, Any]:
        children = k.CHILDREN.get(kind, {})
        return {
            key: self._walk(value, file, children.get(key, k.DATA), (loc, key), depth + 1)
            for key, value in node.items()
            if key != "$ref"
        }

    # -- references ------------------------------------------------------------------------------

    def _ref(
        self,
        node: dict[str, Any],
        ref: str,
        file: SourceFile,
        kind: str,
        *,
        loc: Loc,
        depth: int,
    ) -> dict[str, Any]:
        file_part, fragment = split_ref(ref)
        if file_part and is_remote(file_part):
            self.sink.add(
                where(file.label, loc),
                f"the remote reference {ref!r} is not fetched; it is treated as an empty schema "
                "(download it and reference the local copy)",
                code="remote-ref",
                severity=Severity.WARNING,
            )
            return {}
        if not file_part and file is self.entry:
            self.internal_refs.append((ref, where(file.label, loc)))
            return {"$ref": ref, **self._siblings(node, file, kind, loc, depth)}
        target_file = self._target_file(file, file_part, ref, loc)
        try:
            tokens = parse_fragment(fragment)
        except ValueError as exc:
            raise FatalSchemaError(
                f"$ref {ref!r} has an invalid JSON pointer: {exc}", pointer=where(file.label, loc)
            ) from None
        if target_file is self.entry:
            local = format_pointer(tokens)
            if self.entry_pointer is not None:  # another file refers back into a converted entry
                local = self.entry_pointer(local)
            self.internal_refs.append((local, where(file.label, loc)))
            return {"$ref": local, **self._siblings(node, file, kind, loc, depth)}
        target = resolve(target_file.root, tokens)
        if is_missing(target):
            raise FatalSchemaError(
                f"$ref {ref!r} does not resolve: {target_file.label} has nothing at "
                f"{format_pointer(tokens)}; fix the pointer or add the target",
                pointer=where(file.label, loc),
            )
        siblings = self._siblings(node, file, kind, loc, depth)
        if kind == k.PATH_ITEM:
            return {
                **self._inline(target_file, tokens, target, ref=ref, loc=loc, file=file),
                **siblings,
            }
        section, name = self._component(target_file, tokens, target, kind, where(file.label, loc))
        local = format_pointer(("components", section, name))
        return {"$ref": local, **siblings}

    def _target_file(self, file: SourceFile, file_part: str, ref: str, loc: Loc) -> SourceFile:
        if not file_part:
            return file
        cached = self._by_ref.get((id(file), file_part))
        if cached is not None:
            return cached
        folder = file.path.parent if file is not self.entry else self.base_dir
        if folder is None:
            raise FatalSchemaError(
                f"$ref {ref!r} names a file, but the document was given as text without a "
                "folder to resolve it from; load it from a file instead",
                pointer=where(file.label, loc),
            )
        path = (folder / unquote(file_part)).resolve()
        target = self.load_file(path, referrer=where(file.label, loc), ref=ref)
        self._by_ref[id(file), file_part] = target  # SourceFiles live as long as the bundler
        return target

    def load_file(self, path: Path, *, referrer: str, ref: str) -> SourceFile:
        """Read and parse a referenced file once; fatal when it cannot be read."""
        known = self.files.get(path)
        if known is not None:
            return known
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FatalSchemaError(
                f"$ref {ref!r} points to {self._label(path)}, which does not exist; fix the path "
                "(it is relative to the file that contains the $ref)",
                pointer=referrer,
            ) from None
        except OSError as exc:
            raise FatalSchemaError(
                f"$ref {ref!r}: cannot read {self._label(path)}: {exc.strerror}", pointer=referrer
            ) from None
        label = self._label(path)
        root = parse_text(decode_text(data, name=label), name=label)
        if b"*" in data and b"&" in data:  # only YAML anchors and aliases share objects
            check_expansion(root, name=label)
        if self.transform is not None:
            root = self.transform(root)
        source = SourceFile(path=path, label=label, data=data, root=root)
        self.files[path] = source
        logger.debug("read %s (%d bytes)", label, len(data))
        return source

    def _label(self, path: Path) -> str:
        base = Path.cwd() if self.base_dir is None else self.base_dir
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return path.as_posix()

    def _inline(
        self,
        target_file: SourceFile,
        tokens: tuple[str, ...],
        target: Any,
        *,
        ref: str,
        loc: Loc,
        file: SourceFile,
    ) -> dict[str, Any]:
        key: Key = (target_file.path, tokens)
        if key in self._inlining:
            raise FatalSchemaError(
                f"path item $ref {ref!r} refers to itself; a path item cannot contain itself",
                pointer=where(file.label, loc),
            )
        if not isinstance(target, dict):
            raise FatalSchemaError(
                f"$ref {ref!r} should point to a path item (an object)",
                pointer=where(file.label, loc),
            )
        self._inlining.add(key)
        try:
            walked = self._walk(target, target_file, k.PATH_ITEM, loc_of(tokens), 0)
        finally:
            self._inlining.discard(key)
        return cast("dict[str, Any]", walked)

    def _component(
        self,
        target_file: SourceFile,
        tokens: tuple[str, ...],
        target: Any,
        kind: str,
        referrer: str,
    ) -> tuple[str, str]:
        key: Key = (target_file.path, tokens)
        known = self._registry.get(key)
        if known is not None:
            return known
        if len(tokens) == 3 and tokens[0] == "components" and tokens[1] in k.KIND_OF_SECTION:
            section, base = tokens[1], tokens[2]
        elif len(tokens) == 2 and tokens[0] in ("definitions", "$defs"):
            section, base = "schemas", sanitize_name(tokens[1])
        else:
            section = k.SECTION_OF_KIND.get(kind, "schemas")
            base = sanitize_name(tokens[-1] if tokens else target_file.path.stem)
        taken = self._taken.setdefault(section, {})
        name, number = base, 1
        while name in taken:
            if self._same_content(taken[name], key):
                self._registry[key] = (section, name)
                return section, name
            number += 1
            name = f"{base}{number}"
        if name != base:
            first = taken[base]
            self.sink.add(
                referrer,
                f"two different {section} want the name {base!r}: "
                f"{self._describe(first)} and {self._describe(key)}; "
                f"the second is named {name!r} (rename one to choose)",
                code="name-collision",
                severity=Severity.INFO,
            )
        taken[name] = key
        self._registry[key] = (section, name)
        self._extra.setdefault(section, {})[name] = None
        self._order[section, name] = self._sort_key(target_file, tokens)
        self._queue.append(
            _Pending(section, name, target_file, target, k.KIND_OF_SECTION[section], loc_of(tokens))
        )
        return section, name

    def _declare_components(self, source: SourceFile) -> None:
        """Bundle every component a read file declares, referenced or not.

        A file's ``components`` are its declarations; keeping the unreferenced ones means nothing
        in the input is dropped silently, and matches what bundlers such as Camunda's produce.
        """
        root: Any = source.root
        if not isinstance(root, dict):
            return
        components = cast("dict[str, Any]", root).get("components")
        if not isinstance(components, dict):
            return
        for section, entries in cast("dict[str, Any]", components).items():
            if section not in k.KIND_OF_SECTION or not isinstance(entries, dict):
                continue
            for name, node in cast("dict[str, Any]", entries).items():
                tokens = ("components", section, name)
                self._component(
                    source, tokens, node, k.KIND_OF_SECTION[section], where(source.label, None)
                )

    def _sort_key(self, source: SourceFile, tokens: tuple[str, ...]) -> tuple[str, int]:
        """Where a hoisted component goes: by file path, then in the file's own order.

        Sorting by file makes the bundle independent of the order in which ``$ref``s happen to
        be met (moving a path in the entry does not reshuffle ``components``), and it is the
        order Camunda's published bundle uses. Targets that are not components of their file
        follow that file's components, in the order they were first referenced.
        """
        order = len(self._order) + 1_000_000_000
        if len(tokens) == 3 and tokens[0] == "components":
            entries = cast("dict[str, Any]", source.root)["components"][tokens[1]]
            positions = self._positions.get((source.path, tokens[1]))
            if positions is None:
                positions = {name: i for i, name in enumerate(cast("dict[str, Any]", entries))}
                self._positions[source.path, tokens[1]] = positions
            order = positions.get(tokens[2], order)
        return source.label, order

    def _describe(self, key: Key) -> str:
        path, tokens = key
        source = self.files.get(path)
        label = source.label if source is not None else path.as_posix()
        return f"{label}{format_pointer(tokens)}"

    def _same_content(self, first: Key, second: Key) -> bool:
        """Same content with every ``$ref`` resolving to the same target (so sharing is safe)."""
        return bool(self._identity.canonical(first) == self._identity.canonical(second))

    # -- discriminator mappings ----------------------------------------------------------------

    def _discriminator(self, node: dict[str, Any], file: SourceFile, loc: Loc) -> dict[str, Any]:
        """Rewrite ``discriminator.mapping`` values that are references to other files."""
        mapping = node.get("mapping")
        if not isinstance(mapping, dict):
            return node
        rewritten: dict[str, Any] = {}
        for tag, value in cast("dict[str, Any]", mapping).items():
            if _is_mapping_ref(value) and not (file is self.entry and value.startswith("#")):
                walked = self._ref(
                    {"$ref": value}, value, file, k.SCHEMA, loc=((loc, "mapping"), tag), depth=0
                )
                rewritten[tag] = walked.get("$ref", value)
            else:
                rewritten[tag] = value
        return {**node, "mapping": rewritten}


def _is_mapping_ref(value: object) -> bool:
    """A discriminator mapping value is a reference (not a bare schema name)."""
    return isinstance(value, str) and (
        "#" in value or "/" in value or value.endswith((".yaml", ".yml", ".json"))
    )
