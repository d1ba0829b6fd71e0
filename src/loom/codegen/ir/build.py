"""Build the IR of a whole API from one OpenAPI document."""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase as fnmatch
from typing import Any, cast

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink, Severity
from loom.codegen.ir import names as N
from loom.codegen.ir.model import (
    Api,
    Model,
    Operation,
    Resource,
    SecuritySchemeInfo,
    SkippedOperation,
    TypeRef,
)
from loom.codegen.ir.operations import OperationBuilder, RawOperation, operation_envelope
from loom.codegen.ir.paging import find_override
from loom.codegen.ir.schemas import SchemaConverter
from loom.codegen.ir.text import plain_text

# Attributes of the generated clients and resources that a resource or method must not shadow.
_CLIENT_ATTRS = frozenset(
    {
        "request",
        "request_raw",
        "paginate",
        "with_options",
        "close",
        "aclose",
        "sdk_info",
        "base_url",
        "timeout",
        "max_retries",
        "settings",
        "logger",
        "copy",
    }
)
_RESOURCE_ATTRS = frozenset({"with_raw_response"})


def _d(value: object) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def build_api(document: dict[str, Any], config: GeneratorConfig, sink: DiagnosticSink) -> Api:
    """The IR for ``document``: every operation and schema, or a diagnostic naming what is not."""
    conv = SchemaConverter(document, sink, model_names=config.model_names)
    conv.convert_components()
    builder = OperationBuilder(document, conv, sink)
    raws = builder.collect()

    skipped: list[SkippedOperation] = []
    include = {t.lower() for t in config.include_tags}
    op_ids = _operation_ids(raws, sink)
    by_tag: dict[str, list[tuple[RawOperation, str]]] = {}
    for found, op_id in zip(raws, op_ids, strict=True):
        group = next(
            (g for p, g in config.groups.items() if fnmatch(found.path, p) or fnmatch(op_id, p)),
            None,
        )
        raw = found if group is None else replace(found, tag=group)
        if include and raw.tag.lower() not in include:
            skipped.append(SkippedOperation(raw.method.upper(), raw.path, "tag not included"))
            continue
        by_tag.setdefault(raw.tag, []).append((raw, op_id))

    resources: list[Resource] = []
    class_taken: set[str] = set(conv.taken)  # resource modules import models by name
    attr_taken: set[str] = set(_CLIENT_ATTRS)
    module_taken: set[str] = set()
    flat_taken: set[str] = set(_CLIENT_ATTRS)
    for tag, items in by_tag.items():
        cls = N.safe_class_name(N.pascal(tag))
        twins = (cls, "Async" + cls, cls + "WithRawResponse", "Async" + cls + "WithRawResponse")
        if (
            N.safe_class_name("Async" + cls) != "Async" + cls
            or cls.endswith("WithRawResponse")
            or any(t in class_taken for t in twins)
        ):
            cls += "Api"  # neither it nor its twins may shadow a model or a runtime name
        cls = N.dedupe(cls, class_taken)
        class_taken.update((cls, "Async" + cls, cls + "WithRawResponse"))
        attr = N.snake(tag)
        if attr in {"list", "dict", "str", "int", "float", "bool", "bytes", "type", "object"}:
            attr += "_"  # a resource attribute of that name would shadow it in annotations
        attr = N.safe_method(attr, taken=attr_taken)
        attr_taken.add(attr)
        module = N.dedupe(N.module_name(tag), module_taken)
        module_taken.add(module)
        ops: list[Operation] = []
        method_taken: set[str] = set(_RESOURCE_ATTRS)
        for raw, op_id in items:
            try:
                op = _operation(builder, raw, op_id, tag, config, sink)
            except RecursionError:
                sink.add(
                    raw.pointer,
                    "schema nesting is too deep; operation skipped",
                    code="too-deep",
                    severity=Severity.ERROR,
                )
                skipped.append(SkippedOperation(raw.method.upper(), raw.path, "schema too deep"))
                continue
            if op is None:
                skipped.append(SkippedOperation(raw.method.upper(), raw.path, "invalid operation"))
                continue
            method = _method_name(op_id, tag, config, method_taken, _crud_verb(raw, op))
            method_taken.add(method)
            if op.pagination is not None:
                method_taken.add(method + "_all")
            flat = N.safe_method(N.snake(config.operation_names.get(op_id) or op_id))
            flat = N.dedupe(flat, flat_taken)
            flat_taken.add(flat)
            if op.pagination is not None:
                flat_taken.add(flat + "_all")
            ops.append(replace(op, method_name=method, flat_name=flat))
        desc = _tag_description(document, tag)
        resources.append(Resource(cls, attr, module, tag, desc, tuple(ops)))

    models = _mark_request_only(conv, resources)
    info = _d(document.get("info"))
    return Api(
        title=str(info.get("title") or "API"),
        version=str(info.get("version") or ""),
        description=info.get("description") if isinstance(info.get("description"), str) else None,
        default_base_url=_default_server(document, sink),
        models=tuple(models),
        enums=tuple(conv.enums.values()),
        aliases=tuple(conv.aliases.values()),
        semantic_types=tuple(conv.semantic.values()),
        resources=tuple(resources),
        security_schemes=tuple(_security_schemes(document)),
        default_security=_security(document.get("security")) or (),
        skipped=tuple(skipped),
        extensions={k: v for k, v in document.items() if k.startswith("x-loom-")},
    )


def _operation_ids(raws: list[RawOperation], sink: DiagnosticSink) -> list[str]:
    out: list[str] = []
    taken: set[str] = set()
    for raw in raws:
        given = raw.op.get("operationId")
        base = given if isinstance(given, str) and given.strip() else None
        if base is None:
            base = (
                raw.method
                + "_"
                + "_".join(
                    ("by_" + s[1:-1]) if s.startswith("{") else s for s in raw.path.split("/") if s
                )
            )
        key = N.snake(base)
        if key in taken:
            new = N.dedupe(key, taken)
            sink.add(
                raw.pointer,
                f"operationId {base!r} is used twice; this one is named {new}",
                code="duplicate-operation-id",
            )
            key = new
            base = new
        taken.add(key)
        out.append(base)
    return out


def _crud_verb(raw: RawOperation, op: Operation) -> dict[str, str]:
    """What a bare HTTP verb left by shortening means (``GetCustomers`` in the ``customers``
    group returns a list: ``list``; ``PostCustomers`` on the collection: ``create``)."""
    last = raw.path.rstrip("/").rsplit("/", 1)[-1]
    if last.startswith("{"):
        return {"post": "update", "patch": "update"}
    listing = op.pagination is not None or op.response.kind == "list"
    return {"get": "list", "post": "create"} if listing else {"post": "create"}


def _method_name(
    op_id: str,
    tag: str,
    config: GeneratorConfig,
    taken: set[str],
    verbs: dict[str, str] | None = None,
) -> str:
    override = config.operation_names.get(op_id)
    if override:
        return N.dedupe(N.safe_method(N.snake(override)), taken)
    full = N.safe_method(N.snake(op_id))
    if config.layout == "resources":
        short = N.short_method_name(N.words(op_id), N.words(tag))
        if short is not None:
            short = (verbs or {}).get(short, short)
            candidate = N.safe_method(N.snake(short))
            if candidate not in taken and candidate + "_all" not in taken:
                return candidate
    return N.dedupe(full, taken)


def _operation(
    builder: OperationBuilder,
    raw: RawOperation,
    op_id: str,
    tag: str,
    config: GeneratorConfig,
    sink: DiagnosticSink,
) -> Operation | None:
    prefix = N.pascal(op_id)
    params = builder.parameters(raw, prefix)
    body = builder.body(raw, prefix)
    response, kind, statuses, errors = builder.responses(raw, prefix)
    override = find_override(config.pagination, op_id, raw.path)
    pagination, looks_paged = (
        builder.pagination(raw, params, body, response, override)
        if kind == "json"
        else (None, False)
    )
    if looks_paged and pagination is None and override is None:
        sink.add(
            raw.pointer,
            "the response is a list and the request has paging parameters, but no pattern "
            "(cursor, has_more, Link, next URL, offset/limit, page with a total) fits: no *_all "
            f"pager; declare one under [pagination.{op_id}] if the API pages here",
            code="unpaged-list",
            severity=Severity.INFO,
        )
    summary = raw.op.get("summary")
    description = raw.op.get("description")
    summary = plain_text(summary) if isinstance(summary, str) else None
    description = plain_text(description) if isinstance(description, str) else None
    return Operation(
        operation_id=op_id,
        method_name="",
        flat_name="",
        class_prefix=prefix,
        resource=tag,
        method=raw.method.upper(),
        path=raw.path,
        pointer=raw.pointer,
        params=tuple(params),
        body=body,
        response=response,
        response_kind=kind,
        success_statuses=statuses,
        errors=tuple(errors),
        security=_security(raw.op.get("security")),
        summary=summary if isinstance(summary, str) else None,
        description=description if isinstance(description, str) else None,
        deprecated=raw.op.get("deprecated") is True,
        eventually_consistent=raw.op.get("x-eventually-consistent") is True,
        pagination=pagination,
        accept=builder.accept(raw),
        idempotent=raw.method in {"post", "patch"}
        and any(fnmatch(op_id, p) or fnmatch(raw.path, p) for p in config.idempotent),
        envelope=operation_envelope(raw.op),
    )


def _security(value: object) -> tuple[tuple[str, ...], ...] | None:
    if not isinstance(value, list):
        return None
    out: list[tuple[str, ...]] = []
    for req in cast(list[Any], value):
        if isinstance(req, dict):
            out.append(tuple(sorted(str(k) for k in cast(dict[str, Any], req))))
    return tuple(out)


def _security_schemes(document: dict[str, Any]) -> list[SecuritySchemeInfo]:
    schemes = _d(_d(document.get("components")).get("securitySchemes"))
    out: list[SecuritySchemeInfo] = []
    for name, raw in schemes.items():
        s = _d(raw)
        kind = s.get("type")
        if kind not in ("http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"):
            continue
        scheme = s.get("scheme")
        token_url: str | None = None
        scopes: tuple[str, ...] = ()
        if kind == "oauth2":
            flow = _d(_d(s.get("flows")).get("clientCredentials"))
            url = flow.get("tokenUrl")
            token_url = url if isinstance(url, str) else None
            scopes = tuple(sorted(str(k) for k in _d(flow.get("scopes"))))
        location = s.get("in")
        pname = s.get("name")
        out.append(
            SecuritySchemeInfo(
                name=str(name),
                kind=kind,
                scheme=scheme.lower() if isinstance(scheme, str) else None,
                param_name=pname if isinstance(pname, str) else None,
                location=location if location in ("header", "query", "cookie") else None,
                token_url=token_url,
                scopes=scopes,
            )
        )
    return out


def _default_server(document: dict[str, Any], sink: DiagnosticSink) -> str:
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers:
        return "http://localhost"
    first = _d(cast(list[Any], servers)[0])
    url = first.get("url")
    if not isinstance(url, str):
        return "http://localhost"
    for var, spec in _d(first.get("variables")).items():
        default = _d(spec).get("default")
        url = url.replace("{" + var + "}", str(default) if default is not None else "")
    if "{" in url:
        sink.add(
            "#/servers/0",
            f"server URL {url!r} has variables without defaults",
            code="server-variable",
            severity=Severity.INFO,
        )
    if url.startswith("/"):
        url = "http://localhost" + url
    elif "://" not in url:
        url = "http://localhost/" + url.lstrip("./")
    return url.rstrip("/")


def _tag_description(document: dict[str, Any], tag: str) -> str | None:
    tags: list[Any] = cast(list[Any], document.get("tags") or [])
    for t in tags:
        td = _d(t)
        if td.get("name") == tag and isinstance(td.get("description"), str):
            return plain_text(cast(str, td["description"]))
    return None


def _mark_request_only(conv: SchemaConverter, resources: list[Resource]) -> list[Model]:
    """Flag models reachable only from request bodies: constraints apply to them alone."""
    sent: set[str] = set()
    received: set[str] = set()
    for r in resources:
        for op in r.operations:
            if op.body is not None:
                _reach(op.body.type, conv, sent)
            for p in op.params:
                _reach(p.type, conv, sent)
            _reach(op.response, conv, received)
            for _, t in op.errors:
                _reach(t, conv, received)
            if op.pagination is not None:
                _reach(op.pagination.item_type, conv, received)
    out: list[Model] = []
    for m in conv.models.values():
        only = m.name in sent and m.name not in received
        out.append(replace(m, request_only=only) if only else m)
    return out


def _reach(t: TypeRef, conv: SchemaConverter, acc: set[str]) -> None:
    stack = t.named()
    while stack:
        name = stack.pop()
        if name in acc:
            continue
        acc.add(name)
        model = conv.models.get(name)
        if model is not None:
            if model.base:
                stack.append(model.base)
            for f in model.fields:
                stack.extend(f.type.named())
            if model.extra_type is not None:
                stack.extend(model.extra_type.named())
            # subclasses are reachable through their base in unions of responses
        alias = conv.aliases.get(name)
        if alias is not None:
            stack.extend(alias.target.named())
