"""Parse schema text (JSON or YAML) into plain Python data, safely.

Input is treated as hostile: YAML goes through the safe loader only (libyaml's when it is
installed), explicit YAML types that OpenAPI has no use for become strings or errors, mapping keys
stay the text they were written as (``200:`` is the key ``"200"``, not the integer), and nesting
deeper than ``MAX_DEPTH`` is refused before libyaml's recursive composer could overflow the C stack.
Every failure is a ``FatalSchemaError`` whose message is one line: ``file:line:column: reason``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, cast

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from loom.codegen.diagnostics import FatalSchemaError

MAX_DEPTH = 256
"""Deepest nesting of objects and arrays accepted; real OpenAPI documents stay far below 64."""

_SAFE_YAML_TEXT_SIZE = 10_000
"""Shorter texts cannot nest deep enough to hurt libyaml; longer ones are scanned first."""

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SchemaLoader(_BaseLoader):
    """Safe YAML loader: no timestamps, string keys, no Python objects."""

    def construct_mapping(  # pyright: ignore[reportIncompatibleMethodOverride]
        self, node: Node, deep: bool = False
    ) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        self.flatten_mapping(node)  # resolves YAML merge keys (<<) like the stock loader
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    None, None, "a mapping key must be a plain string", key_node.start_mark
                )
            key = str(key_node.value)  # the text as written: `200:` stays "200"
            mapping[key] = self.construct_object(value_node, deep=deep)  # pyright: ignore[reportUnknownMemberType]
        return mapping

    def construct_scalar_text(self, node: Node) -> str:
        """Keep a scalar as the string it was written as (dates, base64 data)."""
        return str(self.construct_scalar(node))  # pyright: ignore[reportArgumentType, reportUnknownMemberType]

    def refuse(self, node: Node) -> None:
        """Explicit YAML types that have no JSON equivalent are errors."""
        raise ConstructorError(
            None, None, f"the YAML tag {node.tag} has no JSON equivalent", node.start_mark
        )


# Dates and timestamps must stay strings: OpenAPI examples and defaults like 2020-01-01 are text.
_SchemaLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_SchemaLoader.add_constructor(_TIMESTAMP_TAG, _SchemaLoader.construct_scalar_text)
_SchemaLoader.add_constructor("tag:yaml.org,2002:binary", _SchemaLoader.construct_scalar_text)
for _tag in ("set", "omap", "pairs"):
    _SchemaLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _SchemaLoader.refuse)
_SchemaLoader.add_constructor(None, _SchemaLoader.refuse)  # pyright: ignore[reportArgumentType]  # None = any unknown tag (!!python/...)


def decode_text(data: bytes, *, name: str) -> str:
    """Decode UTF-8 (with or without a byte-order mark) or fail with the byte offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FatalSchemaError(
            f"{name}: byte {exc.start} is not valid UTF-8; save the file as UTF-8"
        ) from None


def parse_text(text: str, *, name: str) -> Any:
    """Parse JSON or YAML text, choosing by content (and by the ``.json`` suffix for errors).

    Args:
        text: the document text.
        name: the file name (or ``<string>``) used in error messages.

    Returns:
        Plain data: dicts with string keys, lists, str, int, float, bool and None.

    Raises:
        FatalSchemaError: the text is neither valid JSON nor valid YAML, or nests too deeply.
    """
    stripped = text.lstrip()
    if not stripped:
        raise FatalSchemaError(
            f"{name}: the file is empty; loom expected an OpenAPI 3.0 or 3.1 document (JSON or "
            "YAML with `openapi`, `info` and `paths`)"
        )
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            yaml_named = name.lower().endswith((".yaml", ".yml"))
            json_error = FatalSchemaError(
                f"{name}:{exc.lineno}:{exc.colno}: "
                + (
                    f"the file is named .yaml but starts with `{stripped[0]}`, so it was read as "
                    f"JSON (and as YAML), and it is neither: {exc.msg}; fix the JSON, or write "
                    "YAML (`openapi: 3.0.3` on the first line)"
                    if yaml_named
                    else f"cannot parse JSON: {exc.msg}"
                )
            )
        except RecursionError:
            raise FatalSchemaError(
                f"{name}: the document nests objects or arrays too deeply (limit {MAX_DEPTH})"
            ) from None
        if name.lower().endswith(".json"):
            raise json_error from None
        try:
            return _load_yaml(text, name=name)
        except FatalSchemaError:
            raise json_error from None
    return _load_yaml(text, name=name)


_PROXMOX = re.compile(r"^\s*(?:const|var|let)\s+apiSchema\s*=", re.MULTILINE)


def _load_yaml(text: str, *, name: str) -> Any:
    if _PROXMOX.search(text[:4096]):
        # Only reached when no source took the file: say what it is instead of a YAML error.
        raise FatalSchemaError(
            f"{name}: this is a Proxmox VE API viewer file (apidata.js: JavaScript with "
            "`const apiSchema = [...]`), not an OpenAPI document; loom expected OpenAPI 3.0 or "
            "3.1 in JSON or YAML"
        )
    try:
        if len(text) > _SAFE_YAML_TEXT_SIZE and _depth_bound(text) > MAX_DEPTH:
            _check_yaml_depth(text, name=name)
        return yaml.load(text, Loader=_SchemaLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        raise FatalSchemaError(_yaml_message(exc, name=name)) from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise FatalSchemaError(f"{name}: cannot parse YAML: {reason}") from None
    except RecursionError:
        raise FatalSchemaError(
            f"{name}: the document nests objects or arrays too deeply (limit {MAX_DEPTH})"
        ) from None


def _depth_bound(text: str) -> int:
    """A cheap upper bound of YAML nesting, so that most files skip the exact event scan.

    A block collection nested in another starts at least one column further right, except a
    sequence directly under a mapping key (hence twice the indentation); entries written on one
    line (``- - x``, ``- a: b``) are bounded by the indicators on that line; flow collections by
    the number of ``[`` and ``{`` in the text.
    """
    indent = 0
    indicators = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        indent = max(indent, len(line) - len(stripped))
        count = stripped.count("-") + stripped.count(":") + stripped.count("?")
        indicators = max(indicators, count)
    return 2 * indent + indicators + text.count("[") + text.count("{") + 2


def _check_yaml_depth(text: str, *, name: str) -> None:
    """Refuse nesting beyond ``MAX_DEPTH``, using libyaml's event stream (built iteratively)."""
    depth = 0
    events = cast("Iterator[yaml.Event]", yaml.parse(text, Loader=_SchemaLoader))  # pyright: ignore[reportUnknownMemberType]
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
                raise FatalSchemaError(
                    f"{where}: the document nests objects or arrays deeper than {MAX_DEPTH} levels"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _yaml_message(exc: yaml.MarkedYAMLError, *, name: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
    parts = [p for p in (exc.context, exc.problem) if p]
    reason = " ".join(" ".join(parts).split()) or "invalid YAML"
    return f"{where}: cannot parse YAML: {reason}"
