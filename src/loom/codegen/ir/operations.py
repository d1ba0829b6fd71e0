"""Paths and operations to IR operations: parameters, bodies, responses, errors, paging."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from loom.codegen.diagnostics import DiagnosticSink, Severity, escape_pointer_token
from loom.codegen.ir import names as N
from loom.codegen.ir import paging
from loom.codegen.ir.model import (
    ANY,
    NONE,
    PaginationInfo,
    Parameter,
    PropertyEncoding,
    RequestBody,
    TypeRef,
)
from loom.codegen.ir.schemas import SchemaConverter
from loom.codegen.ir.text import plain_text
from loom.codegen.sources.pointer import parse_fragment, resolve

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PATH_VAR = re.compile(r"{([^{}]+)}")
# Names a parameter cannot take (it gets a number: ``body2``). A parameter named like a per-call
# option (``timeout``) keeps its name; that operation's options get the ``call_`` prefix
# (``render.methods``).
RESERVED_PARAMS = frozenset({"self", "body", "consistency", "options"})
_STATUS_WORDS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "422": "UnprocessableEntity",
    "429": "TooManyRequests",
    "500": "InternalServerError",
    "503": "ServiceUnavailable",
}
Schema = dict[str, Any]


def _d(value: object) -> Schema | None:
    return cast(Schema, value) if isinstance(value, dict) else None


def _l(value: object) -> list[Any]:
    return cast(list[Any], value) if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return plain_text(value) if isinstance(value, str) and value.strip() else None


def is_json(ct: str) -> bool:
    """``application/json``, ``application/problem+json``, ``text/json``, ``*/*+json``…"""
    base = ct.split(";", 1)[0].strip().lower()
    return base in {"application/json", "text/json", "*/*"} or base.endswith("+json")


def _is_text(ct: str) -> bool:
    base = ct.split(";", 1)[0].strip().lower()
    return base.startswith("text/") or base.endswith(("+xml", "/xml", "/csv", "/yaml"))


@dataclass
class RawOperation:
    """An operation as found in the document, before naming."""

    method: str
    path: str
    pointer: str
    op: Schema
    path_params: list[Any]
    tag: str


class OperationBuilder:
    """Builds one ``Operation`` at a time; names are given by the caller."""

    def __init__(self, document: Schema, converter: SchemaConverter, sink: DiagnosticSink) -> None:
        self.doc = document
        self.conv = converter
        self.sink = sink
        comps = _d(document.get("components")) or {}
        self.comp_params = _d(comps.get("parameters")) or {}
        self.comp_bodies = _d(comps.get("requestBodies")) or {}
        self.comp_responses = _d(comps.get("responses")) or {}

    def collect(self) -> list[RawOperation]:
        """Every operation in ``paths``, in document order."""
        out: list[RawOperation] = []
        paths = _d(self.doc.get("paths")) or {}
        for path, item in paths.items():
            ptr_path = "#/paths/" + escape_pointer_token(path)
            item_d = self._path_item(item, ptr_path)
            if item_d is None:
                continue
            for method in METHODS:
                op = _d(item_d.get(method))
                if op is None:
                    if method in item_d:
                        self.sink.add(
                            f"{ptr_path}/{method}",
                            "operation is not an object; skipped",
                            code="invalid-operation",
                            severity=Severity.ERROR,
                        )
                    continue
                tags = [t for t in _l(op.get("tags")) if isinstance(t, str) and usable_tag(t)]
                tag = tags[0] if tags else tag_from_path(path)
                out.append(
                    RawOperation(
                        method, path, f"{ptr_path}/{method}", op, _l(item_d.get("parameters")), tag
                    )
                )
        return out

    # -- resolution -------------------------------------------------------------------------

    def _path_item(self, item: object, ptr: str) -> Schema | None:
        """A path item with its ``$ref`` followed (OpenAPI 3.1 ``#/components/pathItems/…`` or
        any local pointer; the bundler made every reference local). Fields beside ``$ref``
        override the referenced ones (3.1 §4.8.9.1 leaves that case undefined)."""
        d = _d(item)
        seen: set[str] = set()
        while d is not None and isinstance(d.get("$ref"), str):
            ref = cast(str, d["$ref"])
            target: object = None
            if ref.startswith("#") and ref not in seen:
                seen.add(ref)
                with contextlib.suppress(ValueError):
                    target = resolve(self.doc, parse_fragment(ref[1:]))
            target_d = _d(target)
            if target_d is None:
                if self.sink.has(ptr, "dangling-ref"):
                    return None  # the loader named it
                self.sink.add(
                    ptr,
                    f"path item $ref {ref!r} does not resolve to a path item; its operations "
                    "are skipped",
                    code="unresolved-path-item",
                    severity=Severity.ERROR,
                )
                return None
            d = {**target_d, **{k: v for k, v in d.items() if k != "$ref"}}
        if d is None:
            self.sink.add(ptr, "path item is not an object; skipped", code="invalid-path")
        return d

    def _resolve(self, obj: object, table: Schema, kind: str, ptr: str) -> Schema | None:
        d = _d(obj)
        seen: set[str] = set()
        while d is not None and isinstance(d.get("$ref"), str):
            ref = cast(str, d["$ref"])
            prefix = f"#/components/{kind}/"
            if not ref.startswith(prefix) or ref in seen:
                self.sink.add(ptr, f"cannot resolve {ref!r}; skipped", code="unsupported-ref")
                return None
            seen.add(ref)
            d = _d(table.get(ref[len(prefix) :].replace("~1", "/").replace("~0", "~")))
        return d

    # -- parameters ---------------------------------------------------------------------------

    def parameters(self, raw: RawOperation, prefix: str) -> list[Parameter]:
        merged: dict[tuple[str, str], tuple[Schema, str]] = {}
        for source, items in (("path", raw.path_params), ("op", _l(raw.op.get("parameters")))):
            base = (
                raw.pointer.rsplit("/", 1)[0] + "/parameters"
                if source == "path"
                else raw.pointer + "/parameters"
            )
            for i, p in enumerate(items):
                ptr = f"{base}/{i}"
                pd = self._resolve(p, self.comp_params, "parameters", ptr)
                if pd is None:
                    continue
                name, loc = pd.get("name"), pd.get("in")
                if not isinstance(name, str) or loc not in ("path", "query", "header", "cookie"):
                    self.sink.add(
                        ptr,
                        "parameter without a valid name and 'in'; skipped",
                        code="invalid-parameter",
                    )
                    continue
                if loc == "header" and name.lower() in {"accept", "content-type", "authorization"}:
                    continue  # OpenAPI 3 §4.8.12.1: these header parameters are ignored
                merged[(loc, name)] = (pd, ptr)
        template_vars = _PATH_VAR.findall(raw.path)
        for var in template_vars:
            if ("path", var) not in merged:
                self.sink.add(
                    raw.pointer,
                    f"path variable {{{var}}} has no parameter; it is taken as a string",
                    code="missing-path-parameter",
                )
                merged[("path", var)] = (
                    {"name": var, "in": "path", "schema": {"type": "string"}},
                    raw.pointer,
                )
        out: list[Parameter] = []
        taken: set[str] = set(RESERVED_PARAMS)
        firsts = _first_locations(list(merged))
        ordered = sorted(
            merged.items(),
            key=lambda kv: (
                (0, template_vars.index(kv[0][1]))
                if kv[0][0] == "path" and kv[0][1] in template_vars
                else (1, 0)
            ),
        )
        for (loc, name), (pd, ptr) in ordered:
            if loc == "path" and name not in template_vars:
                self.sink.add(
                    ptr,
                    f"path parameter {name!r} is not in the path; skipped",
                    code="invalid-parameter",
                    severity=Severity.INFO,
                )
                continue
            # A name used in several locations: the first keeps it, the others say where they go.
            suffix = "" if firsts[name] == loc else loc
            param = self._parameter(pd, ptr, cast(Any, loc), name, prefix, taken, suffix)
            out.append(param)
        return out

    def _parameter(
        self,
        pd: Schema,
        ptr: str,
        loc: Literal["path", "query", "header", "cookie"],
        name: str,
        prefix: str,
        taken: set[str],
        suffix: str = "",
    ) -> Parameter:
        base = N.snake(name) + (f"_{suffix}" if suffix else "")
        py = N.safe_attribute(base, taken=taken)
        taken.add(py)
        content_type: str | None = None
        schema: object = pd.get("schema")
        content = _d(pd.get("content"))
        if schema is None and content:
            content_type, media = next(iter(content.items()))
            schema = (_d(media) or {}).get("schema")
        t = (
            self.conv.type_of(schema, ptr + "/schema", prefix + N.pascal(name))
            if schema is not None
            else TypeRef("str")
        )
        if content_type is not None:
            t = ANY if t.kind in {"model", "dict", "list", "union"} else t
        required = loc == "path" or pd.get("required") is True
        default_style = "form" if loc in ("query", "cookie") else "simple"
        style = pd.get("style") if isinstance(pd.get("style"), str) else default_style
        # The delimited styles in path and header, and tabDelimited, are not OpenAPI 3 styles:
        # the Swagger 2.0 converter writes them for collectionFormat ssv, tsv and pipes.
        delimited = {"spaceDelimited", "pipeDelimited", "tabDelimited"}
        allowed = {
            "path": {"simple", "label", "matrix", *delimited},
            "query": {"form", "deepObject", *delimited},
            "header": {"simple", *delimited},
            "cookie": {"form"},
        }[loc]
        if style not in allowed:
            self.sink.add(
                ptr,
                f"style {style!r} is not valid in {loc}; using {default_style}",
                code="invalid-style",
                severity=Severity.INFO,
            )
            style = default_style
        explode_raw = pd.get("explode")
        explode = explode_raw if isinstance(explode_raw, bool) else style == "form"
        return Parameter(
            name=py,
            wire=name,
            location=loc,
            type=t if required else t.with_nullable(t.nullable),
            required=required,
            style=cast(str, style),
            explode=explode,
            allow_reserved=pd.get("allowReserved") is True,
            content_type=content_type,
            description=_text(pd.get("description")),
            deprecated=pd.get("deprecated") is True,
            arg=f"{loc}:{name}" if suffix else None,
        )

    # -- bodies -------------------------------------------------------------------------------

    def body(self, raw: RawOperation, prefix: str) -> RequestBody | None:
        if "requestBody" not in raw.op:
            return None
        ptr = raw.pointer + "/requestBody"
        rb = self._resolve(raw.op.get("requestBody"), self.comp_bodies, "requestBodies", ptr)
        if rb is None:
            return None
        content = _d(rb.get("content")) or {}
        if not content:
            self.sink.add(
                ptr,
                "request body has no content; skipped",
                code="empty-body",
                severity=Severity.INFO,
            )
            return None
        ct = _pick_content(list(content))
        media = _d(content[ct]) or {}
        mptr = f"{ptr}/content/{escape_pointer_token(ct)}/schema"
        schema = media.get("schema")
        required = rb.get("required") is True
        desc = _text(rb.get("description"))
        base = ct.split(";", 1)[0].strip().lower()
        if is_json(ct):
            t = self.conv.type_of(schema, mptr, prefix + "Request") if schema is not None else ANY
            return RequestBody(
                base if base != "*/*" else "application/json", t, required, description=desc
            )
        if base == "application/x-www-form-urlencoded" or base.startswith("multipart/"):
            t = self.conv.type_of(schema, mptr, prefix + "Request") if schema is not None else ANY
            files, jsons = (
                self._multipart_fields(t)
                if base != "application/x-www-form-urlencoded"
                else ([], [])
            )
            eptr = f"{ptr}/content/{escape_pointer_token(ct)}/encoding"
            encoding = _encoding(media.get("encoding"), eptr, self.sink)
            return RequestBody(base, t, required, tuple(files), tuple(jsons), desc, encoding)
        if _is_text(ct) and base != "application/xml":
            return RequestBody(base, TypeRef("str"), required, description=desc)
        return RequestBody(base, TypeRef("file"), required, description=desc)

    def _multipart_fields(self, t: TypeRef) -> tuple[list[str], list[str]]:
        model = self.conv.models.get(t.name) if t.kind == "model" else None
        if model is None:
            return [], []
        files: list[str] = []
        jsons: list[str] = []
        for f in self.conv.all_fields(model):
            inner = f.type.args[0] if f.type.kind == "list" and f.type.args else f.type
            if inner.kind in {"bytes", "file"}:
                files.append(f.wire)
            elif f.type.kind in {"model", "dict"} or (
                f.type.kind == "list" and inner.kind != "str"
            ):
                jsons.append(f.wire)
        return files, jsons

    # -- responses ----------------------------------------------------------------------------

    def responses(
        self, raw: RawOperation, prefix: str
    ) -> tuple[
        TypeRef,
        Literal["json", "bytes", "text", "none"],
        tuple[int, ...],
        list[tuple[str, TypeRef]],
    ]:
        responses = _d(raw.op.get("responses")) or {}
        success: list[tuple[int, TypeRef, str]] = []
        errors: list[tuple[str, TypeRef]] = []
        codes = [str(c) for c in responses]
        has_2xx = any(c.startswith("2") for c in codes)
        for code in codes:
            ptr = f"{raw.pointer}/responses/{escape_pointer_token(code)}"
            rd = self._resolve(responses[code], self.comp_responses, "responses", ptr)
            is_success = code.startswith("2") or (code == "default" and not has_2xx)
            content = _d(rd.get("content")) if rd else None
            hint = prefix + (
                "Response" if is_success else _STATUS_WORDS.get(code, N.pascal(code)) + "Error"
            )
            t, kind = self._content_type(content, ptr, hint)
            if is_success:
                status = int(code) if code.isdigit() else 200  # "2XX" and "default"
                success.append((status, t, kind))
            elif (code[:1] in {"4", "5"} or code == "default") and t.kind != "none":
                errors.append((_error_key(code), t))
        if not success:
            return NONE, "none", (200, 201, 202, 204), errors
        kinds = {k for _, _, k in success if k != "none"}
        types: list[TypeRef] = []
        for _, t, k in success:
            if k != "none" and t not in types:
                types.append(t)
        statuses = tuple(sorted({s for s, _, _ in success}))
        if not types:
            return NONE, "none", statuses, errors
        kind = "json" if "json" in kinds else ("bytes" if "bytes" in kinds else "text")
        if kind != "json":
            types = [TypeRef("bytes") if kind == "bytes" else TypeRef("str")]
        nullable = any(k == "none" for _, _, k in success)
        rt = (
            types[0]
            if len(types) == 1
            else TypeRef(
                "union",
                args=tuple(x.with_nullable(False) for x in types),
                nullable=any(x.nullable for x in types),
            )
        )
        if any(x.kind == "any" for x in types):
            rt = ANY
        return rt.with_nullable(nullable or rt.nullable), cast(Any, kind), statuses, errors

    def accept(self, raw: RawOperation) -> str:
        """Every media type the operation's responses declare, in order, for ``Accept``."""
        seen: list[str] = []
        responses = _d(raw.op.get("responses")) or {}
        for value in responses.values():
            rd = self._resolve(value, self.comp_responses, "responses", raw.pointer) or {}
            for ct in _d(rd.get("content")) or {}:
                base = ct.split(";", 1)[0].strip()
                # a media type is a token/token; anything else cannot go into a header
                if re.fullmatch(r"[\w.+*-]+/[\w.+*-]+", base) and base not in seen:
                    seen.append(base)
        return ", ".join(seen)

    def _content_type(self, content: Schema | None, ptr: str, hint: str) -> tuple[TypeRef, str]:
        if not content:
            return NONE, "none"
        cts = list(content)
        ct = _pick_content(cts)
        media = _d(content[ct]) or {}
        schema = media.get("schema")
        if is_json(ct):
            if schema is None:
                return ANY, "json"
            sptr = f"{ptr}/content/{escape_pointer_token(ct)}/schema"
            member = envelope_member(schema)
            if member is not None:  # the result is one member of a wrapper object
                inner = cast(Schema, schema)["properties"][member]
                return self.conv.type_of(inner, f"{sptr}/properties/{member}", hint), "json"
            return self.conv.type_of(schema, sptr, hint), "json"
        if _is_text(ct):
            return TypeRef("str"), "text"
        return TypeRef("bytes"), "bytes"

    # -- paging -------------------------------------------------------------------------------

    def pagination(
        self,
        raw: RawOperation,
        params: list[Parameter],
        body: RequestBody | None,
        response: TypeRef,
        override: dict[str, Any] | None,
    ) -> tuple[PaginationInfo | None, bool]:
        """The operation's pager (``loom.codegen.ir.paging``), and whether the response looks
        paginated (for the corpus report of list operations without one)."""
        fields = paging.with_containers(self._response_fields(response), self._type_fields)
        list_item = _list_item(response)
        query = {p.wire: p for p in params if p.location == "query"}
        looks = paging.looks_paginated(query, fields, list_item)
        if override:
            return paging.from_override(override, fields, list_item, raw.pointer, self.sink), looks
        if body is not None and body.type.kind == "model" and "page" in fields:
            body_fields = {f.wire for f in self.conv.all_fields(self.conv.models[body.type.name])}
            items_field = next((f for f in ("items", "data") if _list_item(fields.get(f))), None)
            if "page" in body_fields and items_field is not None:
                item = cast(TypeRef, _list_item(fields.get(items_field)))
                return PaginationInfo("camunda", items_field, item, "body"), True
        found = paging.detect(
            query,
            fields,
            list_item,
            link_header=self._declares_link_header(raw),
            item_fields=self._type_fields,
        )
        return found, looks

    def _declares_link_header(self, raw: RawOperation) -> bool:
        responses = _d(raw.op.get("responses")) or {}
        for code, value in responses.items():
            if not str(code).startswith("2"):
                continue
            rd = self._resolve(value, self.comp_responses, "responses", raw.pointer) or {}
            if any(str(h).lower() == "link" for h in _d(rd.get("headers")) or {}):
                return True
        return False

    def _type_fields(self, t: TypeRef) -> dict[str, TypeRef]:
        return self._response_fields(t)

    def _response_fields(self, t: TypeRef) -> dict[str, TypeRef]:
        if t.kind != "model" or t.name not in self.conv.models:
            return {}
        return {f.wire: f.type for f in self.conv.all_fields(self.conv.models[t.name])}


def envelope_member(schema: object) -> str | None:
    """``x-loom-envelope`` of a response schema: the property that holds the result."""
    s = _d(schema) or {}
    member = s.get("x-loom-envelope")
    if isinstance(member, str) and isinstance((_d(s.get("properties")) or {}).get(member), dict):
        return member
    return None


def operation_envelope(op: Schema) -> str | None:
    """The envelope member shared by an operation's JSON success responses, if any."""
    for code, response in (_d(op.get("responses")) or {}).items():
        if str(code).startswith("2"):
            for ct, media in (_d((_d(response) or {}).get("content")) or {}).items():
                member = envelope_member((_d(media) or {}).get("schema")) if is_json(ct) else None
                if member is not None:
                    return member
    return None


# tabDelimited is not an OpenAPI 3 style: the Swagger 2.0 converter writes it for tsv.
_FORM_STYLES = frozenset({"form", "spaceDelimited", "pipeDelimited", "tabDelimited", "deepObject"})


def _encoding(
    value: object, ptr: str, sink: DiagnosticSink
) -> tuple[tuple[str, PropertyEncoding], ...]:
    """A media type's ``encoding`` map (OpenAPI 3 §4.8.15); bad entries are named and skipped."""
    out: list[tuple[str, PropertyEncoding]] = []
    for name, raw in (_d(value) or {}).items():
        entry = _d(raw)
        here = f"{ptr}/{escape_pointer_token(name)}"
        if entry is None:
            sink.add(here, "encoding entry is not an object; ignored", code="invalid-encoding")
            continue
        style = entry.get("style")
        if style is not None and style not in _FORM_STYLES:
            sink.add(
                here + "/style",
                f"style {style!r} is not a form style (form, spaceDelimited, pipeDelimited, "
                "deepObject); the property is sent with the default encoding",
                code="invalid-encoding",
            )
            style = None
        ct = entry.get("contentType")
        explode = entry.get("explode")
        out.append(
            (
                str(name),
                PropertyEncoding(
                    content_type=ct.split(",", 1)[0].strip() if isinstance(ct, str) else None,
                    style=cast(str | None, style),
                    explode=explode if isinstance(explode, bool) else None,
                    allow_reserved=entry.get("allowReserved") is True,
                ),
            )
        )
    return tuple(out)


_LOCATION_ORDER = ("path", "query", "header", "cookie")


def _first_locations(keys: list[tuple[str, str]]) -> dict[str, str]:
    """For each wire name, the location that keeps the plain Python name (path, query, header,
    cookie, in that order); parameters of that name elsewhere get the location as a suffix."""
    out: dict[str, str] = {}
    for loc, name in sorted(keys, key=lambda k: _LOCATION_ORDER.index(k[0])):
        out.setdefault(name, loc)
    return out


def _error_key(code: str) -> str:
    """The key the runtime looks errors up by: ``"404"``, ``"4XX"`` (ranges upper case, as
    OpenAPI 3 §4.8.16.2 writes them) and ``"default"`` (lower case, as the runtime reads it)."""
    return "default" if code.lower() == "default" else code.upper()


def _list_item(t: TypeRef | None) -> TypeRef | None:
    if t is None or t.kind != "list" or not t.args:
        return None
    return t.args[0]


def _pick_content(cts: list[str]) -> str:
    """The media type to use when several are offered (JSON first, then forms, then any)."""
    preds: list[Callable[[str], bool]] = [
        lambda c: c.split(";", 1)[0].strip().lower() == "application/json",
        is_json,
        lambda c: c.lower().startswith("multipart/form-data"),
        lambda c: c.lower().startswith("application/x-www-form-urlencoded"),
        lambda c: c.lower().startswith("multipart/"),
    ]
    for pred in preds:
        for c in cts:
            if pred(c):
                return c
    return cts[0]


# Path segments that say which API version or prefix a path sits under, not what it is about:
# ``v1``, ``v2beta``, ``api``, ``rest``, ``2010-04-01`` (Twilio), ``1.0``.
_VERSION_SEGMENT = re.compile(
    r"(?i)^(?:v\d+(?:[._]\d+)*(?:alpha|beta)?\d*|api|apis|rest|\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)*)$"
)


def tag_from_path(path: str) -> str:
    """The group of an untagged operation: its first path segment that is neither a parameter
    nor a version prefix (``/v1/customers/{id}`` → ``customers``), without a file extension."""
    segments = [s for s in path.strip("/").split("/") if s and not s.startswith("{")]
    for seg in segments:
        if not _VERSION_SEGMENT.match(seg):
            return seg.rsplit(".", 1)[0] if "." in seg[1:] else seg
    return segments[0] if segments else "default"


def usable_tag(tag: str) -> bool:
    """A tag that can name a resource: it has a letter (a tag ``1`` would give ``field_1``)."""
    return any(ch.isalpha() for ch in tag)
