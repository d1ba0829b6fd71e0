"""Proxmox parameter and return schemas → JSON Schema (OpenAPI 3.1) schemas.

A Proxmox schema (``PVE::JSONSchema``) looks like JSON Schema with its own words: ``optional``
(1, ``"1"`` or 0) instead of ``required``, ``typetext``, ``format`` as either the name of a
registered format (``pve-node``, ``pve-vmid-list``) or an inline *property string* format (a
dict of keys, sent as ``key=value,key=value``), prose in ``default``, Perl regular
expressions in ``pattern``. This module translates one schema at a time; ``FormatRegistry``
turns property-string formats into named component schemas, deduplicated by content.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink

__all__ = [
    "FormatRegistry",
    "is_optional",
    "literal_default",
    "pascal",
    "perl_pattern",
    "return_schema",
]

Schema = dict[str, Any]

_SCALARS = {"string", "integer", "number", "boolean", "null", "array", "object"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_INT = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
# Perl's ``(?^flags:...)`` (what ``qr//`` stringifies to) means "default flags, then these".
_PERL_GROUP = re.compile(r"\(\?\^([a-z]*):")


def _d(value: object) -> Schema:
    return cast(Schema, value) if isinstance(value, dict) else {}


def is_optional(schema: Schema) -> bool:
    """Proxmox writes ``optional`` as 1, ``"1"``, 0 or not at all; only 1/"1"/true mean yes."""
    value = schema.get("optional")
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip() == "1"


def literal_default(value: object, kind: str) -> tuple[bool, object]:
    """``(True, value)`` when ``value`` is a literal of type ``kind``, else ``(False, value)``.

    Proxmox writes some defaults as prose (``"max(30, vm memory in GiB)"``, ``"same as
    user"``); those are not values and must never be sent or declared as one. Numbers and
    booleans written as strings (``"16777216"``, ``"1"``, ``"yes"``) are literals of their type.
    """
    if kind == "boolean":
        if isinstance(value, bool):
            return True, value
        if isinstance(value, int | float) and value in (0, 1):
            return True, bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return True, value.strip().lower() in _TRUE
        return False, value
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return True, value
        if isinstance(value, float) and value.is_integer():
            return True, int(value)
        if isinstance(value, str) and _INT.match(value.strip()):
            return True, int(value.strip())
        return False, value
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, value
        if isinstance(value, str) and _NUMBER.match(value.strip()):
            text = value.strip()
            return True, int(text) if _INT.match(text) else float(text)
        return False, value
    if kind == "string":
        if isinstance(value, str):
            return True, value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, str(value)
        return False, value
    return False, value


def perl_pattern(pattern: str) -> str | None:
    """A Perl pattern as an ECMA/Python one, or ``None`` when it cannot be used as is."""
    text = _PERL_GROUP.sub(lambda m: f"(?{m.group(1)}:" if m.group(1) else "(?:", pattern)
    if "(?<" in text.replace("(?<=", "").replace("(?<!", "") or "\\z" in text or "\\Z" in text:
        return None  # named groups and Perl anchors do not carry over to JSON Schema
    try:
        re.compile(text)
    except re.error:
        return None
    if "(?=" in text or "(?!" in text or "(?<" in text or re.search(r"\\[1-9]", text):
        return None  # lookarounds and back-references: pydantic's regex engine refuses them
    return text


def _notes(schema: Schema, *, prose_default: object = None) -> str | None:
    parts: list[str] = []
    for key in ("description", "verbose_description"):
        text = schema.get(key)
        if isinstance(text, str) and text.strip() and text.strip() not in parts:
            parts.append(text.strip())
    typetext = schema.get("typetext") or schema.get("format_description")
    if isinstance(typetext, str) and typetext.strip() and typetext not in ("<string>",):
        parts.append(f"Format: {typetext.strip()}")
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt:
        parts.append(f"Proxmox format: {fmt}.")
    if prose_default is not None:
        parts.append(f"Default: {prose_default}.")
    requires = schema.get("requires")
    if isinstance(requires, str) and requires:
        parts.append(f"Requires: {requires}.")
    return "\n\n".join(parts) or None


def _constraints(schema: Schema, out: Schema, kind: str, sink: DiagnosticSink, ptr: str) -> None:
    if kind in ("integer", "number"):
        for key in ("minimum", "maximum"):
            ok, value = literal_default(schema.get(key), kind)
            if key in schema and ok:
                out[key] = value
    if kind == "string":
        for key in ("maxLength", "minLength"):
            value = schema.get(key)
            ok, number = literal_default(value, "integer")
            if value is not None and ok and isinstance(number, int) and number >= 0:
                out[key] = number
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            converted = perl_pattern(pattern)
            if converted is None:
                sink.add(
                    ptr,
                    f"pattern {pattern!r} uses Perl features JSON Schema lacks; not checked",
                    code="proxmox-pattern",
                )
            else:
                out["pattern"] = converted
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        values: list[object] = []
        for v in cast(list[object], enum):
            ok, value = literal_default(v, kind)
            if ok and value not in values:
                values.append(value)
        if values:
            out["enum"] = values


@dataclass
class FormatRegistry:
    """Property-string formats met so far, as component schemas named after their use.

    Attributes:
        sink: receives the problems found in formats.
        schemas: component schemas by name (``QemuNet``, ``LxcNet`` …).
        by_content: the name given to each distinct format (canonical JSON → name).
    """

    sink: DiagnosticSink
    schemas: dict[str, Schema] = field(default_factory=dict[str, Schema])
    by_content: dict[str, str] = field(default_factory=dict[str, str])

    def ref(self, fmt: Schema, name: str, ptr: str) -> str:
        """The ``$ref`` of the component for a property-string format (created on first use)."""
        key = json.dumps(fmt, sort_keys=True)
        known = self.by_content.get(key)
        if known is None:
            known = name
            n = 2
            while known in self.schemas:
                known = f"{name}{n}"
                n += 1
            self.by_content[key] = known
            self.schemas[known] = {}  # taken before the keys are converted (nested formats)
            self.schemas[known] = self._model(fmt, known, ptr)
        return f"#/components/schemas/{known}"

    def _model(self, fmt: Schema, name: str, ptr: str) -> Schema:
        props: Schema = {}
        required: list[str] = []
        default_key: str | None = None
        for key in sorted(fmt):
            spec = _d(fmt[key])
            if "type" not in spec:
                continue  # `alias` / `keyAlias` entries: other spellings of a real key
            props[key] = self.param(spec, name + pascal(key), f"{ptr}/{key}")
            if spec.get("default_key"):
                default_key = key
            if not is_optional(spec):
                required.append(key)
        out: Schema = {
            "type": "object",
            "description": "A property string: sent as `key=value,key=value`.",
            "properties": props,
            "x-proxmox-property-string": {"default_key": default_key} if default_key else {},
        }
        if required:
            out["required"] = required
        return out

    def param(self, schema: Schema, name: str, ptr: str) -> Schema:
        """One parameter schema (or a property-string key) as a JSON Schema."""
        variants = schema.get("oneOf")
        if isinstance(variants, list) and variants:
            members = [
                self.param({**_d(v), "type": _d(v).get("type", schema.get("type"))}, name, ptr)
                for v in cast(list[object], variants)
            ]
            out: Schema = {"anyOf": members}
            note = _notes(schema)
            if note:
                out["description"] = note
            return out
        kind = schema.get("type", "string")
        if kind not in _SCALARS:
            self.sink.add(ptr, f"unknown Proxmox type {kind!r}; typed as a string", code="proxmox")
            kind = "string"
        fmt = schema.get("format")
        out = {"type": kind}
        prose: object = None
        if "default" in schema:
            ok, value = literal_default(schema["default"], kind)
            if ok:
                out["default"] = value
            else:
                prose = schema["default"]
        if kind == "array":
            out["items"] = self.param(_d(schema.get("items")), name + "Item", ptr + "/items")
        _constraints(schema, out, kind, self.sink, ptr)
        if "default" in out and not _satisfies(out["default"], out):
            prose = out.pop("default")  # outside its own enum or range: documented, not declared
        if isinstance(fmt, dict) and kind == "string":
            ref = self.ref(cast(Schema, fmt), name, ptr + "/format")
            text: Schema = {"type": "string"}
            out = {"anyOf": [{"$ref": ref}, text]}
            if "default" in schema and prose is None:
                out["default"] = schema["default"]
        elif isinstance(fmt, str) and fmt.endswith("-list") and kind == "string":
            # A comma list: an array on the Python side, sent joined (form, explode: false).
            item: Schema = {"type": "string", "x-proxmox-format": fmt[: -len("-list")]}
            out = {"anyOf": [{"type": "array", "items": item}, out], "x-proxmox-list": True}
        if isinstance(fmt, str) and fmt:
            out["x-proxmox-format"] = fmt
        note = _notes(schema, prose_default=prose)
        if note:
            out["description"] = note
        return out


def return_schema(schema: object, sink: DiagnosticSink, ptr: str, depth: int = 0) -> Schema:
    """A ``returns`` schema (what the API answers inside ``{"data": …}``) as JSON Schema.

    Property-string values stay strings here: the API returns them as text.
    """
    s = _d(schema)
    if depth > 64:
        return {}
    kind = s.get("type")
    out: Schema = {}
    if kind == "null":
        out["type"] = "null"
    elif kind in _SCALARS:
        out["type"] = kind
    elif "properties" in s:
        out["type"] = "object"
    if kind == "array":
        out["items"] = return_schema(s.get("items"), sink, ptr + "/items", depth + 1)
    props = _d(s.get("properties"))
    if props and kind in (None, "object"):
        converted: Schema = {}
        required: list[str] = []
        for key in sorted(props):
            converted[key] = return_schema(props[key], sink, f"{ptr}/properties/{key}", depth + 1)
            if not is_optional(_d(props[key])):
                required.append(key)
        out["properties"] = converted
        if required:
            out["required"] = required
    extra = _d(s.get("additionalProperties"))
    if extra and kind in (None, "object"):
        out["additionalProperties"] = return_schema(
            extra, sink, ptr + "/additionalProperties", depth + 1
        )
    if isinstance(kind, str) and kind in ("string", "integer", "number", "boolean"):
        enum = s.get("enum")
        if isinstance(enum, list) and kind == "string" and enum:
            out["enum"] = [str(v) for v in cast(list[object], enum)]
    note = _notes(s)
    if note:
        out["description"] = note
    return out


def _satisfies(value: object, schema: Schema) -> bool:
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(low, int | float) and value < low:
            return False
        if isinstance(high, int | float) and value > high:
            return False
    if isinstance(value, str):
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            return False
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and len(value) > max_length:
            return False
    return True


def pascal(text: str) -> str:
    """``QemuNet`` from ``qemu-net``: the words of ``text``, each capitalised."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^0-9A-Za-z]+", text) if p)
