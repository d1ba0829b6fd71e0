"""JSON and YAML documents decoded within the bounds of :mod:`loom.engine.limits`.

:func:`load_json` and :func:`load_yaml` never recurse without a bound and never build more
than :data:`~loom.engine.limits.MAX_YAML_NODES` values: a YAML alias bomb or a document nested
50,000 deep is refused from libyaml's event stream before anything is built. They are
synchronous; the API runs them in a worker thread when a body is large (see
:mod:`loom.engine.api.bodies`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from loom.engine.limits import MAX_DEPTH, MAX_YAML_NODES, BoundError, check_json

__all__ = ["load_json", "load_yaml"]


def _refuse_constant(name: str) -> object:
    raise BoundError("", f"{name} is not a JSON number (numbers must be finite)", "number")


def load_json(body: bytes | str) -> object:
    """Decode JSON text and check it with :func:`~loom.engine.limits.check_json`.

    Raises:
        BoundError: invalid JSON (code ``parse``) or a value that breaks a bound.
    """
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise BoundError("", f"nested deeper than {MAX_DEPTH} levels", "depth") from None
    except json.JSONDecodeError as exc:
        raise BoundError("", f"not valid JSON: {exc.msg} at position {exc.pos}", "parse") from None
    except ValueError as exc:  # bytes that are not UTF-8, an integer of over 4,300 digits
        raise BoundError("", f"not valid JSON: {exc}", "parse") from None
    check_json(data)
    return data


def _scan_yaml(text: str) -> None:
    """Refuse a YAML document whose nesting or expanded alias count breaks the bounds.

    Reads libyaml's event stream (iterative, nothing built): every node counts once, an alias
    counts as the whole node it repeats, so the total is the size the document would expand
    to, and the scan stops as soon as it passes :data:`MAX_YAML_NODES`.
    """
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    expanded = 0
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    parse: Any = getattr(yaml, "parse")  # noqa: B009  # the stubs leave the events untyped
    events: Iterable[object] = parse(text, Loader=loader)
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise BoundError("", f"nested deeper than {MAX_DEPTH} levels", "depth")
            open_nodes.append((event.anchor, expanded))
            expanded += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = expanded - start
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            expanded += sizes.get(event.anchor or "", 1)
        if expanded > MAX_YAML_NODES:
            raise BoundError(
                "",
                f"the document expands to more than {MAX_YAML_NODES} values "
                "(YAML aliases repeat what they refer to)",
                "too_large",
            )


def load_yaml(body: bytes | str) -> object:
    """Decode YAML (or JSON) text within the bounds and check it like :func:`load_json`.

    Raises:
        BoundError: invalid YAML (code ``parse``), an alias bomb, too deep, not JSON values.
    """
    import yaml

    try:
        text = body if isinstance(body, str) else body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BoundError("", f"the text is not UTF-8: {exc}", "parse") from None
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return load_json(stripped)
        except BoundError as exc:
            if exc.code != "parse":
                raise  # valid JSON that breaks a bound; YAML would not do better
    try:
        _scan_yaml(text)
        loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data: object = yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise BoundError("", f"not valid JSON or YAML{where}: {problem}", "parse") from None
    except RecursionError:
        raise BoundError("", f"nested deeper than {MAX_DEPTH} levels", "depth") from None
    except BoundError:
        raise
    except (ValueError, TypeError) as exc:  # an integer of over 4,300 digits, an odd tag
        raise BoundError("", f"not valid JSON or YAML: {exc}", "parse") from None
    check_json(data)
    return data
