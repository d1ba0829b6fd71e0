"""Minimal valid arguments for an OpenAPI operation, built from its schema alone.

For every required path, query and header parameter and for the request body, ``sample``
builds the smallest value that the schema accepts: ``$ref`` resolved, ``allOf`` merged, the
first satisfiable ``oneOf``/``anyOf`` branch (its discriminator set), the first ``enum``
value, ``const``, formats, numeric bounds, lengths and ``pattern``s. Schema ``example``
values are never used: Camunda's own examples break Camunda's patterns.

For a ``pattern`` a fixed list of candidate strings is tried against its Python translation
(``schema_view.python_pattern``). Every value is checked with ``SchemaView.is_valid`` before it
is returned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from tests.e2e.schema_view import (
    SchemaView,
    UnsatisfiableSchemaError,
    merge_into,
    python_pattern,
    type_of,
    valid_number,
)

__all__ = [
    "FILE_CONTENT",
    "OperationArgs",
    "SchemaSampler",
    "UnsatisfiableSchemaError",
    "operation_args",
    "python_pattern",
]

Mode = Literal["json", "multipart"]

FILE_CONTENT: Final = b"loom contract test\n"
"""What a file field or a binary body carries."""

_MAX_DEPTH: Final = 24

_FORMAT_VALUES: Final[dict[str, str]] = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uri": "http://example.com/a",
    "url": "http://example.com/a",
    "iri": "http://example.com/a",
    "uri-reference": "/a",
    "iri-reference": "/a",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "byte": "AAAA",
    "base64": "AAAA",
    "int32": "1",
    "int64": "1",
    "duration": "PT1S",
}

# Tried in order against pattern, length and format; short, ASCII, and shaped like the ids,
# keys and names of real APIs.
_CANDIDATES: Final[tuple[str, ...]] = (
    "a",
    "1",
    "a1",
    "abc",
    "A",
    "x-1",
    "1-1",
    "1*",
    "a.b",
    "a:b",
    "a_b",
    "AAAA",
    "-1",
    "1.0",
    "true",
    "user@example.com",
    "http://example.com/a",
    "/a",
    "2024-01-01T00:00:00Z",
    "2024-01-01",
    "00:00:00",
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "<default>",
    "PT1S",
    "a b",
    "",
)


class SchemaSampler(SchemaView):
    """Builds minimal valid values for schemas of one OpenAPI 3.0 document.

    Attributes (from ``SchemaView``):
        document: the whole OpenAPI document (``$ref``s are local JSON pointers into it).
        request: values are sent by a client, so ``readOnly`` properties are left out.
        strict_one_of: a ``oneOf`` value must match exactly one branch (JSON Schema); when
            false, matching several is accepted (to build a best-effort value for a schema
            whose branches overlap).
    """

    # -- sampling -----------------------------------------------------------------------------

    def sample(
        self, schema: Any, *, mode: Mode = "json", where: str = "#", fill_optional: int = 0
    ) -> Any:
        """The minimal value for ``schema``.

        Args:
            schema: a schema object (or a ``$ref`` to one).
            mode: ``multipart`` turns ``format: binary`` strings into bytes (file parts).
            where: the schema's JSON pointer, for error messages.
            fill_optional: how many object levels also get their optional properties (and
                arrays one item); 0 builds the minimal value. Optional properties whose schema
                admits no value are left out.

        Returns:
            JSON-compatible data (plus ``bytes`` for file fields in multipart mode).

        Raises:
            UnsatisfiableSchemaError: no value could be built or the value does not validate.
        """
        value = self._sample(schema, mode, where, 0, fill=fill_optional)
        if not self.is_valid(_as_json(value), schema):
            raise UnsatisfiableSchemaError(f"{where}: built {value!r} but it does not validate")
        return value

    def _sample(self, schema: Any, mode: Mode, where: str, depth: int, *, fill: int) -> Any:
        if depth > _MAX_DEPTH:
            raise UnsatisfiableSchemaError(f"{where}: schema nests too deeply for a minimal value")
        s = self.resolve(schema)
        if "const" in s:
            return s["const"]
        enum = s.get("enum")
        if isinstance(enum, list) and enum:
            values = [v for v in cast("list[Any]", enum) if v is not None]
            if not values:
                raise UnsatisfiableSchemaError(f"{where}: enum has no non-null value")
            return values[0]
        for key in ("oneOf", "anyOf"):
            branches = s.get(key)
            if isinstance(branches, list) and branches:
                return self._branch(
                    s, key, cast("list[Any]", branches), mode, where, depth, fill=fill
                )
        kind = type_of(s)
        if kind == "object":
            return self._object(s, mode, where, depth, fill=fill)
        if kind == "array":
            return self._array(s, mode, where, depth, fill=fill)
        if kind == "string":
            if mode == "multipart" and s.get("format") == "binary":
                return FILE_CONTENT
            return self._string(s, where)
        if kind in ("integer", "number"):
            return _number(s, integer=kind == "integer", where=where)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return "x"  # no constraints: any JSON value is valid

    def _branch(
        self,
        s: dict[str, Any],
        key: str,
        branches: list[Any],
        mode: Mode,
        where: str,
        depth: int,
        *,
        fill: int,
    ) -> Any:
        base = {k: v for k, v in s.items() if k not in ("oneOf", "anyOf", "discriminator")}
        disc = s.get("discriminator")
        disc_map = cast("Mapping[str, Any]", disc) if isinstance(disc, Mapping) else None
        prop = str(disc_map.get("propertyName")) if disc_map is not None else None
        tags = _discriminator_tags(disc_map) if disc_map is not None else {}
        problems: list[str] = []
        for i, branch in enumerate(branches):
            candidate_schema: dict[str, Any] = {}
            merge_into(candidate_schema, base)
            merge_into(candidate_schema, self.resolve(branch))
            # Filling one more level tells overlapping branches apart (distinct properties).
            for level in dict.fromkeys((fill, max(fill, 1))):
                try:
                    value = self._sample(
                        candidate_schema, mode, f"{where}/{key}/{i}", depth + 1, fill=level
                    )
                except UnsatisfiableSchemaError as exc:
                    problems.append(str(exc))
                    break
                if prop and isinstance(value, dict):
                    obj = cast("dict[str, Any]", value)
                    ref = _ref_of(branch)
                    tag = tags.get(ref) or (ref.rsplit("/", 1)[-1] if ref else None)
                    if tag is not None:
                        # OpenAPI 3.0 "Discriminator Object": the value names the branch.
                        obj[prop] = tag
                jsonable = _as_json(value)
                matches = sum(1 for b in branches if self.is_valid(jsonable, b))
                exact = key == "oneOf" and self.strict_one_of
                if (matches == 1 if exact else matches >= 1) and self.is_valid(jsonable, base):
                    return cast("Any", value)
        detail = "; ".join(problems[:3])
        raise UnsatisfiableSchemaError(f"{where}: no {key} branch can be satisfied {detail}")

    def _object(
        self, s: dict[str, Any], mode: Mode, where: str, depth: int, *, fill: int
    ) -> dict[str, Any]:
        props = cast("dict[str, Any]", s.get("properties") or {})
        required = [str(r) for r in cast("list[Any]", s.get("required") or [])]
        out: dict[str, Any] = {}
        names = list(dict.fromkeys(required))
        if fill > 0:
            names += [n for n in props if n not in names]
        for name in names:
            sub: Any = props.get(name)
            if sub is None:
                extra: Any = s.get("additionalProperties")
                sub = cast("Any", extra) if isinstance(extra, Mapping) else {}
            if self.request and self.resolve(sub).get("readOnly") is True:
                continue
            try:
                out[name] = self._sample(
                    sub, mode, f"{where}/properties/{name}", depth + 1, fill=max(fill - 1, 0)
                )
            except UnsatisfiableSchemaError:
                if name in required:
                    raise
        min_props = int(s.get("minProperties") or 0)
        for name in props:
            if len(out) >= min_props:
                break
            if name not in out:
                out[name] = self._sample(
                    props[name], mode, f"{where}/properties/{name}", depth + 1, fill=0
                )
        extra = s.get("additionalProperties")
        counter = 0
        while len(out) < min_props and extra is not False:
            counter += 1
            out[f"key{counter}"] = self._sample(
                extra if isinstance(extra, Mapping) else {},
                mode,
                f"{where}/additionalProperties",
                depth + 1,
                fill=0,
            )
        return out

    def _array(
        self, s: dict[str, Any], mode: Mode, where: str, depth: int, *, fill: int
    ) -> list[Any]:
        count = int(s.get("minItems") or 0)
        items = s.get("items", {})
        if mode == "multipart" and count == 0 and self.resolve(items).get("format") == "binary":
            # An empty file list is valid, but then no part is sent at all; one file is useful.
            count = 1
        max_items = s.get("maxItems")
        if fill > 0 and count == 0 and (max_items is None or int(max_items) > 0):
            count = 1
        out: list[Any] = []
        for i in range(count):
            value = self._sample(items, mode, f"{where}/items", depth + 1, fill=max(fill - 1, 0))
            if s.get("uniqueItems") and i:
                value = _vary(value, i)
            out.append(value)
        return out

    def _string(self, s: dict[str, Any], where: str) -> str:
        min_len = int(s.get("minLength") or 0)
        max_len = s.get("maxLength")
        fmt = s.get("format")
        pattern = s.get("pattern")
        compiled = self.compiled(str(pattern)) if isinstance(pattern, str) else None
        preferred = _FORMAT_VALUES.get(str(fmt)) if fmt is not None else None
        bases = [preferred] if preferred is not None else []
        bases += list(_CANDIDATES)
        for base in bases:
            for text in _stretched(base, min_len):
                if len(text) < min_len or (max_len is not None and len(text) > int(max_len)):
                    continue
                if compiled is not None and compiled.search(text) is None:
                    continue
                if preferred is not None and text != preferred:
                    continue
                return text
        raise UnsatisfiableSchemaError(
            f"{where}: no candidate string fits pattern={pattern!r}, minLength={min_len}, "
            f"maxLength={max_len}, format={fmt!r}; add one to minimal_args._CANDIDATES"
        )


@dataclass(frozen=True)
class OperationArgs:
    """Minimal arguments of one operation.

    Attributes:
        params: values of the required parameters by ``(location, wire name)``.
        body: the request body (JSON data, a multipart field mapping, ``bytes`` or ``str``),
            or ``None`` when the operation has no body.
        content_type: the body's media type, or ``None``.
        body_required: whether the schema requires the body.
    """

    params: dict[tuple[str, str], Any]
    body: Any
    content_type: str | None
    body_required: bool


def operation_args(
    document: Mapping[str, Any], pointer: str, *, sampler: SchemaSampler | None = None
) -> OperationArgs:
    """Minimal valid arguments for the operation at ``pointer`` (``#/paths/~1foo/get``).

    Every required parameter (path-level ones included) gets a value; the body is built
    whenever the operation declares one (a minimal optional body is still useful to check
    its encoding), from its first media type.

    Args:
        document: the OpenAPI document.
        pointer: the JSON pointer of the operation object.
        sampler: a sampler to reuse (its pattern cache); one is created otherwise.

    Returns:
        The arguments.

    Raises:
        UnsatisfiableSchemaError: a required value cannot be built (the message has a pointer).
    """
    sampler = sampler or SchemaSampler(document)
    op = cast("Mapping[str, Any]", sampler.lookup(pointer))
    path_item = cast("Mapping[str, Any]", sampler.lookup(pointer.rsplit("/", 1)[0]))
    declared: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
    for origin, group in ((pointer.rsplit("/", 1)[0], path_item), (pointer, op)):
        for i, raw in enumerate(cast("list[Any]", group.get("parameters") or [])):
            where = f"{origin}/parameters/{i}"
            param = raw
            while isinstance(param, Mapping) and "$ref" in param:
                where = str(cast("Mapping[str, Any]", param)["$ref"])
                param = sampler.lookup(where)
            p = cast("Mapping[str, Any]", param)
            declared[(str(p["in"]), str(p["name"]))] = (p, where)
    params: dict[tuple[str, str], Any] = {}
    for key, (p, where) in declared.items():
        if not (p.get("required") or key[0] == "path"):
            continue
        if "schema" in p:
            params[key] = sampler.sample(p["schema"], where=f"{where}/schema")
        else:
            content = cast("Mapping[str, Any]", p.get("content") or {})
            empty: dict[str, Any] = {}
            media = cast("Mapping[str, Any]", next(iter(content.values()), empty))
            params[key] = sampler.sample(media.get("schema", {}), where=where)

    body_spec = op.get("requestBody")
    if body_spec is None:
        return OperationArgs(params, None, None, body_required=False)
    rb_where = f"{pointer}/requestBody"
    while isinstance(body_spec, Mapping) and "$ref" in body_spec:
        rb_where = str(cast("Mapping[str, Any]", body_spec)["$ref"])
        body_spec = sampler.lookup(rb_where)
    rb = cast("Mapping[str, Any]", body_spec)
    content = cast("Mapping[str, Any]", rb.get("content") or {})
    if not content:
        return OperationArgs(params, None, None, body_required=False)
    content_type = next(iter(content))
    media = cast("Mapping[str, Any]", content[content_type])
    schema = media.get("schema", {})
    where = f"{rb_where}/content/{content_type.replace('/', '~1')}/schema"
    base = content_type.split(";", 1)[0].strip().lower()
    body: Any
    if base == "application/json" or base.endswith("+json"):
        body = sampler.sample(schema, where=where)
    elif base.startswith("multipart/") or base == "application/x-www-form-urlencoded":
        body = sampler.sample(schema, mode="multipart", where=where)
    elif base.startswith("text/"):
        body = "loom"
    else:
        body = FILE_CONTENT
    return OperationArgs(params, body, content_type, body_required=bool(rb.get("required")))


# -- helpers ----------------------------------------------------------------------------------


def _ref_of(schema: Any) -> str:
    if isinstance(schema, Mapping):
        return str(cast("Mapping[str, Any]", schema).get("$ref", ""))
    return ""


def _discriminator_tags(disc: Mapping[str, Any]) -> dict[str, str]:
    mapping = cast("Mapping[str, Any]", disc.get("mapping") or {})
    tags: dict[str, str] = {}
    for tag, ref in mapping.items():
        tags.setdefault(str(ref), str(tag))
    return tags


def _number(s: Mapping[str, Any], *, integer: bool, where: str) -> int | float:
    lo: float | None = s.get("minimum")
    hi: float | None = s.get("maximum")
    excl_lo, excl_hi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    # OpenAPI 3.0 has boolean exclusive bounds (JSON Schema draft 4); 3.1 has numbers.
    if not isinstance(excl_lo, bool) and excl_lo is not None:
        lo, excl_lo = excl_lo, True
    if not isinstance(excl_hi, bool) and excl_hi is not None:
        hi, excl_hi = excl_hi, True
    step: float = s.get("multipleOf") or (1 if integer else 0)
    value: float = 1
    if lo is not None:
        value = lo + (step or 1) if excl_lo is True else lo
    if hi is not None and (value > hi or (excl_hi is True and value >= hi)):
        value = hi - (step or 1) if excl_hi is True else hi
    if step:
        value = math.ceil(value / step) * step
    if integer:
        value = math.ceil(value)
    if not valid_number(value, s):
        raise UnsatisfiableSchemaError(f"{where}: no number within the bounds")
    return int(value) if integer else float(value)


def _stretched(base: str, min_len: int) -> list[str]:
    """``base`` and versions padded to ``min_len`` (repeated, or extended with ``a``/``1``)."""
    if len(base) >= min_len:
        return [base]
    repeat = (base * (min_len // max(len(base), 1) + 1))[: max(min_len, 1)] if base else ""
    return [base, repeat, base + "a" * (min_len - len(base)), base + "1" * (min_len - len(base))]


def _vary(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return f"{value}{i}"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + i
    return value


def _as_json(value: Any) -> Any:
    """The value as the wire sees it for validation: file bytes count as strings."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [_as_json(v) for v in cast("list[Any]", value)]
    return value
