"""Rendering of one operation's method, written once; its twins are one line each.

The sync method is the only one with a signature and a docstring. The asyncio, raw-response and
pager twins are descriptors over it (``loom.runtime.methods``)::

    list = async_method(Pets.list)          # in AsyncPets
    list = raw_method(Pets.list)            # in PetsWithRawResponse
    list_all = pager(list, lambda page: page.items)

Arguments, in order: path parameters (positional or keyword), then keyword-only: required
parameters, required body fields, optional parameters, optional body fields, ``body=`` (the
whole body), ``consistency=``, and the per-call options (``**options: Unpack[RequestOptions]``).

Body style ``fields`` (the default) makes each field of a JSON object body an argument, typed
for input (a nested model also accepts its ``Param`` TypedDict); ``body=`` takes the whole model
instead when no field is required (with a required field the two cannot share one signature
without overloads, and the twins keep the first overload only). Style ``body`` keeps one
``body=`` argument (the model or its TypedDict).

Names (one rule, decided here): the API's names are never changed for the SDK's sake. When a
parameter or body field is named like a per-call option (``extra_headers``, ``extra_query``,
``extra_body``, ``timeout``), that operation spells its options out with the prefix
``call_`` (``call_timeout=``; a number is added if that is taken too). ``self``, ``body``,
``consistency`` and ``options`` are taken: a body field named so gets a number (``body2``), as
parameters do.
"""

from __future__ import annotations

from dataclasses import dataclass

from loom.codegen.ir import names as N
from loom.codegen.ir.model import Model, ModelField, Operation, TypeRef
from loom.codegen.pyliteral import py_string
from loom.codegen.render.annotations import Imports, annotation, docstring
from loom.codegen.render.operations import const_name
from loom.codegen.render.params import RequestShapes, body_fields, input_annotation

__all__ = [
    "OPTION_NAMES",
    "MethodText",
    "field_arguments",
    "method_text",
    "option_arguments",
    "twin_lines",
]

OPTION_NAMES = ("extra_headers", "extra_query", "extra_body", "timeout")
_TAKEN = frozenset({"self", "body", "consistency", "options"})
_OPTION_TYPES = {
    "extra_headers": "Headers | None = None",
    "extra_query": "Query | None = None",
    "extra_body": "JsonBody | None = None",
    "timeout": "TimeoutLike | NotGiven = NOT_GIVEN",
}


@dataclass(frozen=True)
class MethodText:
    """One operation's method and what its twins need.

    Attributes:
        text: the sync method (decorators, signature, docstring, body), indented for a class.
        name: the method's name.
        items: for a paginated operation, the ``lambda page: ...`` that types the pager items.
    """

    text: str
    name: str
    items: str | None
    deprecated: bool = False
    pager_of: str = ""
    """For an old name kept by ``[renames]``: the new method its pager iterates."""


@dataclass
class _Args:
    positional: list[str]
    required: list[str]
    optional: list[str]
    doc: list[str]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def field_arguments(
    op: Operation, shapes: RequestShapes, style: str
) -> list[tuple[ModelField, str]] | None:
    """Each body field that becomes an argument, with the argument's name (``None``: the body
    is one ``body=`` argument)."""
    fields = body_fields(op, shapes, style)
    if fields is None:
        return None
    taken = set(_TAKEN) | {p.name for p in op.params}
    out: list[tuple[ModelField, str]] = []
    for f in fields:
        name = N.dedupe(f.name, taken)
        taken.add(name)
        out.append((f, name))
    return out


def option_arguments(op: Operation, shapes: RequestShapes, style: str) -> dict[str, str]:
    """Per-call option → argument name, when an argument of ``op`` took an option's name
    (``{"timeout": "call_timeout", ...}``); ``{}`` when the options are ``**options``."""
    names = {p.name for p in op.params}
    names.update(n for _, n in field_arguments(op, shapes, style) or ())
    if not names & set(OPTION_NAMES):
        return {}
    taken = names | _TAKEN
    out: dict[str, str] = {}
    for opt in OPTION_NAMES:
        out[opt] = N.dedupe("call_" + opt, taken)
        taken.add(out[opt])
    return out


def _not_given(imports: Imports, rt: str) -> str:
    imports.add(rt + ".types", "NotGiven")
    imports.add(rt + ".types", "NOT_GIVEN")
    return " | NotGiven = NOT_GIVEN"


def _body_args(
    op: Operation, args: _Args, imports: Imports, shapes: RequestShapes, style: str
) -> str:
    """Add the body's arguments; return the call's body expression."""
    rt = imports.up + "_runtime"
    body = op.body
    if body is None:
        imports.add(rt + ".types", "NOT_GIVEN")
        return "NOT_GIVEN"
    if body_fields(op, shapes, style) is None:
        ann = input_annotation(body.type, imports, shapes, rt)
        if body.required:
            args.required.insert(0, f"body: {ann}")
        else:
            args.optional.append(f"body: {ann}{_not_given(imports, rt)}")
        args.doc.insert(0, "body: " + _one_line(body.description or "the request body."))
        return "body"
    pairs: list[str] = []
    any_required = False
    for f, name in field_arguments(op, shapes, style) or ():
        ann = input_annotation(f.type, imports, shapes, rt)
        if f.required and body.required:
            any_required = True
            args.required.append(f"{name}: {ann}")
        else:
            args.optional.append(f"{name}: {ann}{_not_given(imports, rt)}")
        if f.description:
            args.doc.append(f"{name}: {_one_line(f.description)}")
        pairs.append(f"{py_string(f.wire)}: {name}")
    mapping = "{" + ", ".join(pairs) + "}"
    if any_required:
        return mapping
    assert body.type.kind == "model"
    imports.names.add(body.type.name)
    args.optional.append(f"body: {body.type.name}{_not_given(imports, rt)}")
    args.doc.append(f"body: the whole body as a ``{body.type.name}`` instead of its fields.")
    imports.add(rt + ".methods", "body_from")
    required = ", required=True" if body.required else ""
    return f"body_from(body, {mapping}{required})"


def method_text(
    op: Operation,
    imports: Imports,
    shapes: RequestShapes,
    *,
    name: str,
    receiver: str,
    style: str,
    decorator: str = "",
) -> MethodText:
    """The sync method of one operation (``decorator``: one more line above its ``def``)."""
    rt = imports.up + "_runtime"
    args = _Args([], [], [], [])
    for p in op.params:
        ann = input_annotation(p.type, imports, shapes, rt)
        if p.location == "path":
            args.positional.append(f"{p.name}: {ann}")
        elif p.required:
            args.required.append(f"{p.name}: {ann}")
        else:
            args.optional.append(f"{p.name}: {ann}{_not_given(imports, rt)}")
        if p.description:
            args.doc.append(f"{p.name}: {_one_line(p.description)}")
    body_expr = _body_args(op, args, imports, shapes, style)
    renamed = option_arguments(op, shapes, style)
    call = [const_name(op), "{" + ", ".join(f"{p.key!r}: {p.name}" for p in op.params) + "}"]
    call.append(body_expr)
    if op.eventually_consistent:
        imports.add(rt + ".consistency", "Consistency")
        args.optional.append("consistency: Consistency | None = None")
        args.doc.append("consistency: wait until the result satisfies a predicate.")
        call.append("consistency=consistency")
    if renamed:
        for opt, arg in renamed.items():
            imports.add(rt + ".types", _OPTION_TYPES[opt].split(" ")[0])
            args.optional.append(f"{arg}: {_OPTION_TYPES[opt]}")
            call.append(f"{opt}={arg}")
            args.doc.append(f"{arg}: the per-call option ``{opt}`` (an argument took its name).")
        imports.add(rt + ".types", "NOT_GIVEN")
    else:
        imports.add("typing_extensions", "Unpack")
        imports.add(rt + ".methods", "RequestOptions")
        args.optional.append("**options: Unpack[RequestOptions]")
        call.append("**options")
    parts = ["self", *args.positional]
    if args.required or any(not a.startswith("**") for a in args.optional):
        parts.append("*")
    parts.extend(args.required)
    parts.extend(args.optional)
    return_type = annotation(op.response, imports, runtime=rt)
    deco = f"    {decorator}\n" if decorator else ""
    if op.deprecated:
        imports.add("typing_extensions", "deprecated")
        deco += f"    @deprecated({py_string(op.operation_id + ' is deprecated')})\n"
    joined = ",\n        ".join(parts)
    text = (
        f"{deco}    def {name}(\n        {joined},\n    ) -> {return_type}:\n"
        f"{_doc(op, args.doc)}\n"
        f"        return {receiver}.request({', '.join(call)})"
    )
    items = None
    if op.pagination is not None:
        items = _items_lambda(op, shapes.models, imports)
    return MethodText(text, name, items, op.deprecated)


def _doc(op: Operation, arg_docs: list[str]) -> str:
    lines: list[str] = []
    if op.summary:
        lines.append(op.summary.strip())
    if op.description and op.description.strip() != (op.summary or "").strip():
        lines.append(op.description.strip())
    if not lines:
        lines.append(f"{op.method} {op.path}")
    if arg_docs:
        lines.append("Args:\n" + "\n".join("    " + a for a in arg_docs))
    return docstring("\n\n".join(lines), "        ")


def _items_lambda(op: Operation, models: dict[str, Model], imports: Imports) -> str:
    """``lambda page: page.items`` (typed through the page model), else a cast."""
    assert op.pagination is not None
    pg = op.pagination
    t: TypeRef = op.response
    model = models.get(t.name) if t.kind == "model" and not t.nullable else None
    if model is not None and "." not in pg.items_field:
        for f in model.fields:
            if f.wire == pg.items_field and f.type.kind == "list":
                return f"lambda page: page.{f.name}"
    imports.add("typing", "cast")
    item = annotation(pg.item_type, imports, runtime=imports.up + "_runtime")
    imports.add("collections.abc", "Iterable")
    return f'lambda page: cast("Iterable[{item}]", page)'


def twin_lines(
    texts: list[MethodText], source: str, kind: str, imports: Imports, *, with_pagers: bool
) -> list[str]:
    """The one-line twins of ``source``'s methods in another class (``kind``: ``async``,
    ``raw``, ``async_raw``, or ``pager`` for the sync class's own ``_all`` pagers)."""
    rt = imports.up + "_runtime"
    out: list[str] = []
    for m in texts:
        if kind == "pager":
            if m.items is not None:
                imports.add(rt + ".methods", "pager")
                out.append(f"    {m.name}_all = pager({m.name}, {m.items})")
            continue
        factory = {"async": "async_method", "raw": "raw_method", "async_raw": "async_raw_method"}
        imports.add(rt + ".methods", factory[kind])
        # The twin warns at run time through the method; type checkers flag the method itself.
        ignore = "  # pyright: ignore[reportDeprecated]" if m.deprecated else ""
        out.append(f"    {m.name} = {factory[kind]}({source}.{m.name}){ignore}")
        if with_pagers and m.items is not None:
            imports.add(rt + ".methods", "async_pager")
            target = m.pager_of or m.name
            unwarned = "" if m.pager_of else ignore
            out.append(f"    {m.name}_all = async_pager({source}.{target}, {m.items}){unwarned}")
    return out
