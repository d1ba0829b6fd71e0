"""The intermediate representation: what templates see, and nothing else.

Frozen dataclasses; names, types and defaults are decided when the IR is built
(``loom.codegen.ir.build``), never in templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from loom.codegen.renames import ResolvedRenames

TypeKind = Literal[
    "any",
    "none",
    "str",
    "int",
    "float",
    "bool",
    "bytes",
    "date",
    "datetime",
    "time",
    "uuid",
    "file",
    "model",
    "enum",
    "alias",
    "semantic",
    "list",
    "dict",
    "union",
    "literal",
]


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A Python type, as a tree.

    Attributes:
        kind: what it is.
        name: for ``model``, ``enum``, ``alias``, ``semantic``: the class or alias name.
        args: for ``list`` (one), ``dict`` (one: the value type), ``union`` (members).
        values: for ``literal``: the literal values (JSON scalars).
        nullable: ``| None`` is added.
        discriminator: for a ``union``: the property name of a discriminated union.
        tags: for a discriminated ``union``: one tag list per member (the mapping values that
            select it).
    """

    kind: TypeKind
    name: str = ""
    args: tuple[TypeRef, ...] = ()
    values: tuple[str | int | float | bool, ...] = ()
    nullable: bool = False
    discriminator: str | None = None
    tags: tuple[tuple[str, ...], ...] = ()

    def with_nullable(self, nullable: bool = True) -> TypeRef:
        """The same type, nullable or not."""
        if self.kind in {"any", "none"} or self.nullable == nullable:
            return self
        return TypeRef(
            self.kind, self.name, self.args, self.values, nullable, self.discriminator, self.tags
        )

    def named(self) -> list[str]:
        """Every class/alias name this type mentions, in order of appearance."""
        out: list[str] = []
        if self.kind in {"model", "enum", "alias", "semantic"}:
            out.append(self.name)
        for a in self.args:
            out.extend(a.named())
        return out


ANY = TypeRef("any")
NONE = TypeRef("none")


@dataclass(frozen=True, slots=True)
class Constraints:
    """Validation constraints, applied only to models the SDK sends."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    ge: float | int | None = None
    le: float | int | None = None
    gt: float | int | None = None
    lt: float | int | None = None
    min_items: int | None = None
    max_items: int | None = None
    multiple_of: float | int | None = None

    def is_empty(self) -> bool:
        """True when nothing is constrained."""
        return all(getattr(self, f) is None for f in self.__slots__)


@dataclass(frozen=True, slots=True)
class ModelField:
    """One property of a model.

    Attributes:
        name: the Python attribute name.
        wire: the JSON property name.
        type: the annotation.
        required: the property must be present.
        default: a Python expression for the default (already safe to emit), or None.
        default_factory: a Python expression for a default factory (lists, dicts), or None.
        description: text for the attribute docstring (raw; escaped when rendered).
        deprecated: the property is deprecated.
        read_only: the property is readOnly (never required).
        write_only: the property is writeOnly (never required).
        constraints: constraints, emitted only on request-only models.
    """

    name: str
    wire: str
    type: TypeRef
    required: bool
    default: str | None = None
    default_factory: str | None = None
    description: str | None = None
    deprecated: bool = False
    read_only: bool = False
    write_only: bool = False
    constraints: Constraints = field(default_factory=Constraints)


@dataclass(frozen=True, slots=True)
class Model:
    """A pydantic model (an object schema)."""

    name: str
    pointer: str
    fields: tuple[ModelField, ...]
    description: str | None = None
    base: str | None = None
    deprecated: bool = False
    request_only: bool = False
    extra_type: TypeRef | None = None


@dataclass(frozen=True, slots=True)
class EnumMember:
    """One member of an enum: its Python name and its wire value."""

    name: str
    value: str | int


@dataclass(frozen=True, slots=True)
class Enum:
    """A string or integer enum (open: unknown values are kept)."""

    name: str
    pointer: str
    kind: Literal["str", "int"]
    members: tuple[EnumMember, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Alias:
    """A named type that is not a class: ``Foo: TypeAlias = list[Bar] | None``."""

    name: str
    pointer: str
    target: TypeRef
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SemanticType:
    """A distinct string id type from ``x-semantic-type`` (``NewType(name, str)``)."""

    name: str
    pointer: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of an operation."""

    name: str
    wire: str
    location: Literal["path", "query", "header", "cookie"]
    type: TypeRef
    required: bool
    style: str
    explode: bool
    allow_reserved: bool = False
    content_type: str | None = None
    description: str | None = None
    deprecated: bool = False
    arg: str | None = None
    """The key in the call's argument mapping when not ``wire`` (``"header:id"``): the wire name
    is used by parameters in several locations; mirrors ``loom.runtime.operation.Param.arg``."""

    @property
    def key(self) -> str:
        """The key of this parameter's value in the call's argument mapping."""
        return self.arg or self.wire


@dataclass(frozen=True, slots=True)
class PropertyEncoding:
    """One entry of a form or multipart media type's ``encoding`` map (OpenAPI 3 §4.8.15);
    mirrors ``loom.runtime.operation.Encoding``."""

    content_type: str | None = None
    style: str | None = None
    explode: bool | None = None
    allow_reserved: bool = False


@dataclass(frozen=True, slots=True)
class RequestBody:
    """The request body of an operation."""

    content_type: str
    type: TypeRef
    required: bool
    file_fields: tuple[str, ...] = ()
    json_fields: tuple[str, ...] = ()
    description: str | None = None
    encoding: tuple[tuple[str, PropertyEncoding], ...] = ()
    """By wire name, in document order."""


@dataclass(frozen=True, slots=True)
class PaginationInfo:
    """How an operation pages; mirrors ``loom.runtime.operation.Pagination``."""

    kind: Literal["offset", "page", "cursor", "camunda"]
    items_field: str
    item_type: TypeRef
    request_in: Literal["query", "body"] = "query"
    options: tuple[tuple[str, str | int], ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation.

    Attributes:
        operation_id: the schema's ``operationId`` or a derived one.
        method_name: the method's name on its resource (or on the client, flat layout).
        flat_name: the method's name in the flat layout.
        class_prefix: PascalCase of the operation id, for per-operation error classes.
        resource: the resource (tag) it belongs to.
    """

    operation_id: str
    method_name: str
    flat_name: str
    class_prefix: str
    resource: str
    method: str
    path: str
    pointer: str
    params: tuple[Parameter, ...]
    body: RequestBody | None
    response: TypeRef
    response_kind: Literal["json", "bytes", "text", "none"]
    success_statuses: tuple[int, ...]
    errors: tuple[tuple[str, TypeRef], ...]
    security: tuple[tuple[str, ...], ...] | None
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    eventually_consistent: bool = False
    pagination: PaginationInfo | None = None
    accept: str = ""
    """Media types the responses declare, for the Accept header ("" when there are none)."""
    idempotent: bool = False
    """A POST/PATCH that the configuration says is safe to retry (a search)."""


@dataclass(frozen=True, slots=True)
class Resource:
    """A group of operations (one tag): ``client.<attr>.<method>()``."""

    class_name: str
    attr: str
    module: str
    tag: str
    description: str | None
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class SecuritySchemeInfo:
    """One security scheme, as the runtime's ``SecurityScheme`` takes it."""

    name: str
    kind: str
    scheme: str | None = None
    param_name: str | None = None
    location: str | None = None
    token_url: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SkippedOperation:
    """An operation the SDK does not have, and why."""

    method: str
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Api:
    """The whole API, ready to render."""

    title: str
    version: str
    description: str | None
    default_base_url: str
    models: tuple[Model, ...]
    enums: tuple[Enum, ...]
    aliases: tuple[Alias, ...]
    semantic_types: tuple[SemanticType, ...]
    resources: tuple[Resource, ...]
    security_schemes: tuple[SecuritySchemeInfo, ...]
    default_security: tuple[tuple[str, ...], ...]
    skipped: tuple[SkippedOperation, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict[str, Any])
    renames: ResolvedRenames | None = None
    """The deprecated old names the SDK keeps (``[renames]``, checked against this API)."""

    @property
    def operations(self) -> list[Operation]:
        """Every operation, in resource order."""
        return [op for r in self.resources for op in r.operations]
