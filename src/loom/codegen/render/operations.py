"""Rendering of operations: the ``Operation`` constants (methods are in ``render.methods``)."""

from __future__ import annotations

from loom.codegen.ir.model import Operation, Parameter, PropertyEncoding
from loom.codegen.render.annotations import Imports, annotation

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


def operation_constant(
    op: Operation,
    imports: Imports,
    *,
    per_op_errors: bool,
    default_security: tuple[tuple[str, ...], ...] | None = None,
) -> str:
    """``_CREATE = Operation[T](...)`` for one operation.

    A security requirement equal to the document's is left out (``None`` means the document's),
    and errors that all share one type are written ``dict.fromkeys((codes), Type)``.
    """
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
        types = [annotation(t, imports, runtime=rt) for _, t in op.errors]
        if len(types) > 1 and len(set(types)) == 1:
            codes = ", ".join(repr(code) for code, _ in op.errors)
            args.append(f"errors=dict.fromkeys(({codes}), {types[0]})")
        else:
            errs = ", ".join(
                f"{code!r}: {t}" for (code, _), t in zip(op.errors, types, strict=True)
            )
            args.append(f"errors={{{errs}}}")
    if per_op_errors:
        classes = per_operation_errors(op)
        if classes:
            for _, name, _ in classes:
                imports.add(imports.up + "errors", name)
            args.append("error_classes={" + ", ".join(f"{s}: {n}" for s, n, _ in classes) + "}")
    if op.security is not None and op.security != default_security:
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
