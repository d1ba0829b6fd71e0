"""Rendering of operations: the ``Operation`` constants and the methods that call them.

The same method text serves both layouts (resources, flat) and both clients (sync, async): only
the receiver (``self._client`` or ``self``), the ``async``/``await`` words and the return type of
the raw-response twin differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from loom.codegen.ir.model import Operation, Parameter, PropertyEncoding, TypeRef
from loom.codegen.render.annotations import Imports, annotation, docstring

_ERROR_BASES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def error_base(status: int) -> str:
    """The shared error class a status maps to."""
    if status >= 500:
        return "InternalServerError"
    return _ERROR_BASES.get(status, "APIStatusError")


def error_class_name(op: Operation, status: int) -> str:
    """``CreateProcessInstanceBadRequestError`` for a per-operation error class."""
    base = error_base(status)
    suffix = base if base != "APIStatusError" else f"Status{status}Error"
    return f"{op.class_prefix}{suffix}"


def per_operation_errors(op: Operation) -> list[tuple[int, str, str]]:
    """``(status, class name, base class)`` for every numeric error status of ``op``."""
    out: list[tuple[int, str, str]] = []
    for code, _ in op.errors:
        if code.isdigit() and 400 <= int(code) <= 599:
            status = int(code)
            out.append((status, error_class_name(op, status), error_base(status)))
    return out


def const_name(op: Operation) -> str:
    """The module-level name of an operation's ``Operation`` constant."""
    return "_" + op.flat_name.upper().strip("_")


@dataclass(frozen=True)
class MethodText:
    """Pieces of one method, shared by the sync/async and plain/raw variants."""

    params: str
    call_args: str
    doc: str
    return_type: str
    item_type: str | None
    deprecated: str | None


def operation_constant(op: Operation, imports: Imports, *, per_op_errors: bool) -> str:
    """``_CREATE = Operation[T](...)`` for one operation."""
    rt = imports.up + "_runtime"
    imports.add(rt + ".operation", "Operation")
    response = annotation(op.response, imports, runtime=rt)
    args = [
        f"operation_id={op.operation_id!r}",
        f"method={op.method!r}",
        f"path={op.path!r}",
    ]
    if op.params:
        imports.add(rt + ".operation", "Param")
        params = ", ".join(_param_ctor(p) for p in op.params)
        args.append(f"params=({params},)")
    if op.body is not None:
        imports.add(rt + ".operation", "Body")
        body_args = [repr(op.body.content_type)]
        if op.body.required:
            body_args.append("required=True")
        if op.body.file_fields:
            body_args.append(f"file_fields=frozenset({sorted(op.body.file_fields)!r})")
        if op.body.json_fields:
            body_args.append(f"json_fields=frozenset({sorted(op.body.json_fields)!r})")
        if op.body.encoding:
            imports.add(rt + ".operation", "Encoding")
            body_args.append(f"encoding={_encoding_map(op.body.encoding)}")
        args.append(f"body=Body({', '.join(body_args)})")
    if op.response.kind != "none":
        args.append(f"response={response}")
    if op.response_kind != "json":
        args.append(f"response_kind={op.response_kind!r}")
    if op.success_statuses != (200,):
        args.append(f"success_statuses={op.success_statuses!r}")
    if op.errors:
        errs = ", ".join(f"{code!r}: {annotation(t, imports, runtime=rt)}" for code, t in op.errors)
        args.append(f"errors={{{errs}}}")
    if per_op_errors:
        classes = per_operation_errors(op)
        if classes:
            for _, name, _ in classes:
                imports.add(imports.up + "errors", name)
            args.append("error_classes={" + ", ".join(f"{s}: {n}" for s, n, _ in classes) + "}")
    if op.security is not None:
        if op.security:
            imports.add(rt + ".operation", "SecurityRequirement")
        reqs = ", ".join(f"SecurityRequirement({tuple(r)!r})" for r in op.security)
        args.append(f"security=({reqs}{',' if op.security else ''})")
    if op.eventually_consistent:
        args.append("eventually_consistent=True")
    if op.idempotent:
        args.append("idempotent=True")
    if op.accept and op.accept != "application/json":
        args.append(f"accept={op.accept!r}")
    if op.deprecated:
        args.append("deprecated=True")
    if op.envelope:
        args.append(f"envelope={op.envelope!r}")
    if op.pagination is not None:
        imports.add(rt + ".operation", "Pagination")
        pg = op.pagination
        pargs = [f"kind={pg.kind!r}", f"items_field={pg.items_field!r}"]
        if pg.request_in != "query":
            pargs.append(f"request_in={pg.request_in!r}")
        pargs.extend(f"{k}={v!r}" for k, v in pg.options)
        pargs.append(f"item_type={annotation(pg.item_type, imports, runtime=rt)}")
        args.append(f"pagination=Pagination({', '.join(pargs)})")
    joined = ",\n    ".join(args)
    return f"{const_name(op)} = Operation[{response}](\n    {joined},\n)"


def _encoding_map(encoding: tuple[tuple[str, PropertyEncoding], ...]) -> str:
    entries: list[str] = []
    for name, e in encoding:
        args = [
            f"{k}={v!r}"
            for k, v in (
                ("content_type", e.content_type),
                ("style", e.style),
                ("explode", e.explode),
            )
            if v is not None
        ]
        if e.allow_reserved:
            args.append("allow_reserved=True")
        entries.append(f"{name!r}: Encoding({', '.join(args)})")
    return "{" + ", ".join(entries) + "}"


def _param_ctor(p: Parameter) -> str:
    args = [repr(p.wire), repr(p.location), repr(p.style), repr(p.explode)]
    if p.allow_reserved:
        args.append("allow_reserved=True")
    if p.required:
        args.append("required=True")
    if p.content_type:
        args.append(f"content_type={p.content_type!r}")
    if p.arg:
        args.append(f"arg={p.arg!r}")
    return f"Param({', '.join(args)})"


def method_text(op: Operation, imports: Imports) -> MethodText:
    """Signature, call arguments and docstring of one operation's method."""
    rt = imports.up + "_runtime"
    positional: list[str] = []
    required_kw: list[str] = []
    optional_kw: list[str] = []
    doc_args: list[str] = []
    for p in op.params:
        ann = annotation(p.type, imports, runtime=rt)
        if p.location == "path":
            positional.append(f"{p.name}: {ann}")
        elif p.required:
            required_kw.append(f"{p.name}: {ann}")
        else:
            imports.add(rt + ".types", "NotGiven")
            imports.add(rt + ".types", "NOT_GIVEN")
            optional_kw.append(f"{p.name}: {ann} | NotGiven = NOT_GIVEN")
        if p.description:
            doc_args.append(f"{p.name}: {_one_line(p.description)}")
    body_arg = "NOT_GIVEN"
    if op.body is not None:
        ann = _body_annotation(op.body.type, imports)
        if op.body.required:
            required_kw.insert(0, f"body: {ann}")
        else:
            imports.add(rt + ".types", "NotGiven")
            imports.add(rt + ".types", "NOT_GIVEN")
            optional_kw.insert(0, f"body: {ann} | NotGiven = NOT_GIVEN")
        body_arg = "body"
        doc_args.insert(0, "body: " + _one_line(op.body.description or "the request body."))
    else:
        imports.add(rt + ".types", "NOT_GIVEN")
    return_type = annotation(op.response, imports, runtime=rt)
    if op.eventually_consistent:
        imports.add(rt + ".consistency", "Consistency")
        optional_kw.append("consistency: Consistency | None = None")
        doc_args.append(
            "consistency: wait until the result satisfies a predicate (the API is "
            "eventually consistent)."
        )
    for name in ("Headers", "Query", "JsonBody", "TimeoutLike", "NotGiven", "NOT_GIVEN"):
        imports.add(rt + ".types", name)
    optional_kw.extend(
        [
            "extra_headers: Headers | None = None",
            "extra_query: Query | None = None",
            "extra_body: JsonBody | None = None",
            "timeout: TimeoutLike | NotGiven = NOT_GIVEN",
        ]
    )
    parts = ["self", *positional]
    parts.append("*")
    parts.extend(required_kw)
    parts.extend(optional_kw)
    params = ",\n        ".join(parts)
    wire = ", ".join(f"{p.key!r}: {p.name}" for p in op.params)
    call = [const_name(op), "{" + wire + "}", body_arg]
    call.extend(
        [
            "extra_headers=extra_headers",
            "extra_query=extra_query",
            "extra_body=extra_body",
            "timeout=timeout",
        ]
    )
    call_cons = [*call, "consistency=consistency"] if op.eventually_consistent else call
    doc_lines: list[str] = []
    if op.summary:
        doc_lines.append(op.summary.strip())
    if op.description and op.description.strip() != (op.summary or "").strip():
        doc_lines.append(op.description.strip())
    if not doc_lines:
        doc_lines.append(f"{op.method} {op.path}")
    if doc_args:
        doc_lines.append("Args:\n" + "\n".join("    " + a for a in doc_args))
    deprecated: str | None = None
    if op.deprecated:
        imports.add("typing_extensions", "deprecated")
        deprecated = f"@deprecated({(op.operation_id + ' is deprecated')!r})"
    item = None
    if op.pagination is not None:
        item = annotation(op.pagination.item_type, imports, runtime=rt)
    return MethodText(
        params=params,
        call_args=", ".join(call_cons),
        doc=docstring("\n\n".join(doc_lines), "        "),
        return_type=return_type,
        item_type=item,
        deprecated=deprecated,
    )


def _body_annotation(t: TypeRef, imports: Imports) -> str:
    ann = annotation(t, imports, runtime=imports.up + "_runtime")
    if t.kind == "model":
        imports.add("collections.abc", "Mapping")
        return f"{ann} | Mapping[str, object]"
    return ann


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_methods(
    op: Operation,
    m: MethodText,
    *,
    name: str,
    receiver: str,
    is_async: bool,
    raw: bool,
    imports: Imports,
    decorator: str = "",
) -> str:
    """The method (and its ``*_all`` pager twin) for one variant; ``decorator`` goes on both."""
    rt = imports.up + "_runtime"
    out: list[str] = []
    prefix = "async def" if is_async else "def"
    await_ = "await " if is_async else ""
    deco = "".join(f"    {d}\n" for d in (decorator, m.deprecated) if d)
    no_cons_args = m.call_args.replace(", consistency=consistency", "")
    no_cons_params = m.params.replace(",\n        consistency: Consistency | None = None", "")
    params = m.params
    if raw:
        imports.add(rt + ".response", "RawResponse")
        ret = f"RawResponse[{m.return_type}]"
        call = f"{receiver}.request_raw({no_cons_args})"
        params = no_cons_params
    else:
        ret = m.return_type
        call = f"{receiver}.request({m.call_args})"
    doc = (m.doc + "\n") if m.doc else ""
    out.append(
        f"{deco}    {prefix} {name}(\n        {params},\n    ) -> {ret}:\n{doc}"
        f"        return {await_}{call}"
    )
    if op.pagination is not None and not raw:
        pager = "AsyncPager" if is_async else "SyncPager"
        imports.add(rt + ".pagination", pager)
        args = no_cons_args
        params = no_cons_params
        pdoc = docstring(
            f"Iterate over every item of every page of ``{name}`` (fetched as needed).", "        "
        )
        out.append(
            f"{deco}    def {name}_all(\n        {params},\n    ) -> {pager}[{m.return_type}, "
            f"{m.item_type}]:\n{pdoc}\n        return {receiver}.paginate({args})"
        )
    return "\n\n".join(out)
