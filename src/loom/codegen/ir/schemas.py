"""JSON Schema (OpenAPI 3.0 and 3.1 dialects) to IR types and named definitions.

Component schemas are named from their keys (never from ``title``); inline schemas that need a
class get a name from where they sit (parent + property, operation + role). Anything that cannot
be expressed becomes ``Any`` with a diagnostic; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink, Severity, escape_pointer_token
from loom.codegen.ir import names as N
from loom.codegen.ir.defaults import constraints_of, default_expression, default_problem
from loom.codegen.ir.model import (
    ANY,
    NONE,
    Alias,
    Enum,
    EnumMember,
    Model,
    ModelField,
    SemanticType,
    TypeRef,
)

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_FORMATS = {
    ("string", "date"): "date",
    ("string", "date-time"): "datetime",
    ("string", "time"): "time",
    ("string", "uuid"): "uuid",
    ("string", "binary"): "bytes",
}
_COMPONENT_PREFIX = "#/components/schemas/"
Schema = dict[str, Any]


def _as_dict(value: object) -> Schema | None:
    return cast(Schema, value) if isinstance(value, dict) else None


def _as_list(value: object) -> list[Any]:
    return cast(list[Any], value) if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


class SchemaConverter:
    """Turns schemas into ``TypeRef``s and collects the named definitions they need."""

    def __init__(
        self,
        document: Schema,
        sink: DiagnosticSink,
        *,
        model_names: dict[str, str] | None = None,
    ) -> None:
        self.doc = document
        self.sink = sink
        components = _as_dict(document.get("components")) or {}
        self.components: Schema = _as_dict(components.get("schemas")) or {}
        self.models: dict[str, Model] = {}
        self.enums: dict[str, Enum] = {}
        self.aliases: dict[str, Alias] = {}
        self.semantic: dict[str, SemanticType] = {}
        self.taken: set[str] = set()
        self._component_names: dict[str, str] = {}
        self._component_types: dict[str, TypeRef] = {}
        self._building: set[str] = set()
        overrides = model_names or {}
        for key in self.components:
            natural = overrides.get(key) or N.pascal(key)
            wanted = N.safe_class_name(natural)
            name = N.dedupe(wanted, self.taken)
            if name != natural:
                self.sink.add(
                    _COMPONENT_PREFIX + escape_pointer_token(key),
                    f"component {key!r} is named {name} because {natural} is taken",
                    code="name-collision",
                    severity=Severity.INFO,
                )
            self.taken.add(name)
            self._component_names[key] = name

    # -- entry points ---------------------------------------------------------------------

    def convert_components(self) -> None:
        """Build a definition for every component schema, in document order."""
        for key in self.components:
            self.component_type(key)

    def component_type(self, key: str) -> TypeRef:
        """The type a ``$ref`` to ``#/components/schemas/<key>`` stands for."""
        if key in self._component_types:
            return self._component_types[key]
        name = self._component_names[key]
        ptr = _COMPONENT_PREFIX + escape_pointer_token(key)
        schema = _as_dict(self.components.get(key))
        if schema is None:
            self.sink.add(ptr, "schema is not an object; using Any", code="invalid-schema")
            ref = ANY
            self._component_types[key] = ref
            return ref
        kind = self._definition_kind(schema, set())
        nullable = kind != "alias" and self._is_nullable(schema)
        ref = TypeRef(kind, name, nullable=nullable)
        self._component_types[key] = ref
        self._building.add(key)
        try:
            self._define(name, schema, ptr, kind)
        finally:
            self._building.discard(key)
        return ref

    def type_of(self, schema: object, ptr: str, hint: str) -> TypeRef:
        """The type of a schema found at ``ptr``; ``hint`` names inline classes it needs."""
        s = _as_dict(schema)
        if s is None:
            if schema is True or schema is None:
                return ANY
            self.sink.add(ptr, "schema is not an object; using Any", code="invalid-schema")
            return ANY
        nullable = bool(s.get("nullable"))
        ref = s.get("$ref")
        if isinstance(ref, str):
            t = self._ref_type(ref, ptr)
            return t.with_nullable(nullable or t.nullable)
        parts = _as_list(s.get("allOf"))
        only = _as_dict(parts[0]) if len(parts) == 1 else None
        if (
            only is not None
            and isinstance(only.get("$ref"), str)
            and not any(k in s for k in ("properties", "oneOf", "anyOf", "additionalProperties"))
        ):
            # ``allOf: [$ref]`` beside a description or nullable: the referenced type itself.
            t = self.type_of(only, ptr + "/allOf/0", hint)
            return t.with_nullable(self._is_nullable(s) or t.nullable)
        kind = self._definition_kind(s, set())
        if kind in {"model", "enum", "semantic"}:
            name = self._fresh_name(hint)
            self._define(name, s, ptr, kind)
            return TypeRef(kind, name, nullable=self._is_nullable(s))
        return self._inline(s, ptr, hint)

    # -- classification -------------------------------------------------------------------

    def _definition_kind(self, s: Schema, seen: set[str]) -> Any:
        """``model``, ``enum``, ``semantic`` or ``alias`` (anything else)."""
        if "$ref" in s:
            return "alias"
        types = self._types(s)
        if isinstance(s.get("x-semantic-type"), str) and types <= {"string", "null"} and types:
            return "semantic"
        enum_values = [v for v in _as_list(s.get("enum")) if v is not None]
        if enum_values and types <= {"string", "integer", "null"}:
            if all(isinstance(v, str) for v in enum_values):
                return "enum"
            if all(isinstance(v, int) and not isinstance(v, bool) for v in enum_values):
                return "enum"
        if self._is_object(s, seen):
            return "model"
        return "alias"

    def _types(self, s: Schema) -> set[str]:
        t = s.get("type")
        if isinstance(t, str):
            return {t}
        if isinstance(t, list):
            return {x for x in cast(list[Any], t) if isinstance(x, str)}
        return set()

    def _is_object(self, s: Schema, seen: set[str]) -> bool:
        types = self._types(s)
        if types and not types <= {"object", "null"}:
            return False
        if _as_dict(s.get("properties")):
            return True
        if "oneOf" in s or "anyOf" in s:
            return False
        parts = _as_list(s.get("allOf"))
        if parts:
            return any(self._part_is_object(p, seen) for p in parts)
        return False

    def _part_is_object(self, part: object, seen: set[str]) -> bool:
        p = _as_dict(part)
        if p is None:
            return False
        ref = p.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT_PREFIX):
            key = _unescape(ref[len(_COMPONENT_PREFIX) :])
            if key in seen:
                return False
            target = _as_dict(self.components.get(key))
            return target is not None and self._is_object(target, seen | {key})
        return self._is_object(p, seen)

    def _is_nullable(self, s: Schema) -> bool:
        if s.get("nullable") is True or "null" in self._types(s):
            return True
        return None in _as_list(s.get("enum"))

    # -- references -----------------------------------------------------------------------

    def _ref_type(self, ref: str, ptr: str) -> TypeRef:
        if ref.startswith(_COMPONENT_PREFIX):
            key = _unescape(ref[len(_COMPONENT_PREFIX) :])
            if key in self.components:
                return self.component_type(key)
        if self.sink.has(ptr, "dangling-ref"):
            return ANY  # the loader named it, with how much it matters
        self.sink.add(
            ptr,
            f"$ref {ref!r} does not point to a component schema; using Any",
            code="unsupported-ref",
        )
        return ANY

    def _fresh_name(self, hint: str) -> str:
        name = N.dedupe(N.safe_class_name(N.pascal(hint)), self.taken)
        self.taken.add(name)
        return name

    # -- definitions ----------------------------------------------------------------------

    def _define(self, name: str, s: Schema, ptr: str, kind: str) -> None:
        description = _text(s.get("description"))
        if kind == "semantic":
            self.semantic[name] = SemanticType(name, ptr, description)
        elif kind == "enum":
            self.enums[name] = self._enum(name, s, ptr, description)
        elif kind == "model":
            self.models[name] = self._model(name, s, ptr, description)
        else:
            target = self.type_of(s, ptr, name) if "$ref" in s else self._inline(s, ptr, name)
            self.aliases[name] = Alias(name, ptr, target, description)

    def _enum(self, name: str, s: Schema, ptr: str, description: str | None) -> Enum:
        raw = [v for v in _as_list(s.get("enum")) if v is not None]
        kind = "str" if all(isinstance(v, str) for v in raw) else "int"
        members: list[EnumMember] = []
        seen_values: set[object] = set()
        used: set[str] = set()
        for v in cast(list[str | int], raw):
            if v in seen_values:
                self.sink.add(
                    ptr + "/enum",
                    f"duplicate enum value {v!r} is listed once",
                    code="duplicate-enum-value",
                    severity=Severity.INFO,
                )
                continue
            seen_values.add(v)
            base = N.upper_snake(str(v)) if kind == "str" else _int_member(v)
            member = N.dedupe(base, used)
            if member.startswith("UNKNOWN_"):
                member = N.dedupe("V_" + member, used)
            used.add(member)
            members.append(EnumMember(member, v))
        return Enum(name, ptr, "str" if kind == "str" else "int", tuple(members), description)

    def _inline(self, s: Schema, ptr: str, hint: str) -> TypeRef:
        """A type that needs no class of its own (or whose parts get their own names)."""
        nullable = self._is_nullable(s)
        if "const" in s:
            return _literal(s["const"], ptr, self.sink).with_nullable(nullable)
        for key in ("oneOf", "anyOf"):
            if key in s:
                t = self._union(s, key, ptr, hint)
                return t.with_nullable(nullable or t.nullable)
        parts = _as_list(s.get("allOf"))
        if parts:
            t = self._all_of_alias(s, parts, ptr, hint)
            return t.with_nullable(nullable or t.nullable)
        types = self._types(s) - {"null"}
        if len(types) > 1:
            members = [self._scalar(s, t, ptr, hint) for t in sorted(types)]
            return TypeRef("union", args=tuple(members), nullable=nullable)
        t = next(iter(types)) if types else _guess_type(s)
        if t is None:
            return NONE if self._types(s) == {"null"} else ANY
        return self._scalar(s, t, ptr, hint).with_nullable(nullable)

    def _scalar(self, s: Schema, t: str, ptr: str, hint: str) -> TypeRef:
        if t == "array":
            items = s.get("items")
            if isinstance(items, list):  # tuple-style items: keep it loose but honest
                return TypeRef("list", args=(ANY,))
            return TypeRef("list", args=(self.type_of(items, ptr + "/items", hint + "Item"),))
        if t == "object":
            extra = _as_dict(s.get("additionalProperties"))
            if extra:
                value = self.type_of(extra, ptr + "/additionalProperties", hint + "Value")
                return TypeRef("dict", args=(value,))
            return TypeRef("dict", args=(ANY,))
        if t == "null":
            return NONE
        fmt = s.get("format")
        special = _FORMATS.get((t, fmt)) if isinstance(fmt, str) else None
        if special is not None:
            return TypeRef(cast(Any, special))
        scalar = _SCALARS.get(t)
        if scalar is None:
            self.sink.add(ptr, f"unknown type {t!r}; using Any", code="unknown-type")
            return ANY
        enum_values = _as_list(s.get("enum"))
        if enum_values and scalar in {"float", "bool"}:
            literals = [v for v in enum_values if isinstance(v, (int, float, bool))]
            if literals and scalar == "bool":
                return TypeRef("literal", values=tuple(literals))
        return TypeRef(cast(Any, scalar))

    def _union(self, s: Schema, key: str, ptr: str, hint: str) -> TypeRef:
        raw = _as_list(s.get(key))
        members: list[TypeRef] = []
        nullable = False
        for i, m in enumerate(raw):
            md = _as_dict(m)
            if md is not None and self._types(md) == {"null"} and "$ref" not in md:
                nullable = True
                continue
            title = _text(md.get("title")) if md else None
            sub_hint = hint + (N.pascal(title) if title else f"Variant{i + 1}")
            t = self.type_of(m, f"{ptr}/{key}/{i}", sub_hint)
            if t.kind == "none":
                nullable = True
                continue
            if t.nullable:
                nullable = True
                t = t.with_nullable(False)
            if t not in members:
                members.append(t)
        if not members:
            return NONE if nullable else ANY
        if any(m.kind == "any" for m in members):
            return ANY
        if len(members) == 1:
            return members[0].with_nullable(nullable)
        disc = self._discriminator(s, raw, members, ptr)
        if disc is not None:
            prop, tags = disc
            return TypeRef(
                "union", args=tuple(members), nullable=nullable, discriminator=prop, tags=tags
            )
        return TypeRef("union", args=tuple(members), nullable=nullable)

    def _discriminator(
        self, s: Schema, raw: list[Any], members: list[TypeRef], ptr: str
    ) -> tuple[str, tuple[tuple[str, ...], ...]] | None:
        d = _as_dict(s.get("discriminator"))
        if d is None:
            return None
        prop = d.get("propertyName")
        if not isinstance(prop, str) or not all(m.kind == "model" for m in members):
            self.sink.add(
                ptr + "/discriminator",
                "discriminator ignored: every member must be an object schema reference",
                code="discriminator",
                severity=Severity.INFO,
            )
            return None
        mapping = _as_dict(d.get("mapping")) or {}
        by_name: dict[str, list[str]] = {m.name: [] for m in members}
        for tag, target in mapping.items():
            if not isinstance(target, str):
                continue
            t = self._ref_type(target, ptr + "/discriminator/mapping") if "/" in target else None
            if t is None and target in self._component_names:
                t = self.component_type(target)
            if t is not None and t.name in by_name:
                by_name[t.name].append(str(tag))
        if len(raw) == len(members):
            for m, r in zip(members, raw, strict=True):
                rd = _as_dict(r)
                ref = rd.get("$ref") if rd else None
                if not by_name[m.name] and isinstance(ref, str):
                    by_name[m.name].append(_unescape(ref.rsplit("/", 1)[-1]))
        if any(not tags for tags in by_name.values()):
            self.sink.add(
                ptr + "/discriminator",
                "discriminator ignored: a member has no mapping value",
                code="discriminator",
                severity=Severity.INFO,
            )
            return None
        all_tags = [t for tags in by_name.values() for t in tags]
        if len(all_tags) != len(set(all_tags)):
            return None
        return prop, tuple(tuple(by_name[m.name]) for m in members)

    def _all_of_alias(self, s: Schema, parts: list[Any], ptr: str, hint: str) -> TypeRef:
        """``allOf`` that is not an object: the single part's type (constraints ignored)."""
        typed: list[tuple[int, Schema]] = []
        for i, part in enumerate(parts):
            p = _as_dict(part)
            if p is not None and ("$ref" in p or self._types(p)):
                typed.append((i, p))
        if len(typed) == 1:
            i, p = typed[0]
            return self.type_of(p, f"{ptr}/allOf/{i}", hint)
        if not typed:
            types = self._types(s) - {"null"}
            if types:
                return self._scalar(s, next(iter(sorted(types))), ptr, hint)
            return ANY
        self.sink.add(
            ptr + "/allOf",
            "allOf of several non-object schemas is not expressible; using the first",
            code="all-of",
            severity=Severity.INFO,
        )
        i, p = typed[0]
        return self.type_of(p, f"{ptr}/allOf/{i}", hint)

    # -- models ---------------------------------------------------------------------------

    def _model(self, name: str, s: Schema, ptr: str, description: str | None) -> Model:
        own_props: list[tuple[str, Schema, str, str]] = []  # wire, schema, ptr, hint
        required: set[str] = set(_strs(s.get("required")))
        base: str | None = None
        inherited: list[ModelField] = []
        parents: list[tuple[Model, str]] = []
        extra: TypeRef | None = None
        for i, part in enumerate(_as_list(s.get("allOf"))):
            pp = f"{ptr}/allOf/{i}"
            pd = _as_dict(part)
            if pd is None:
                continue
            ref = pd.get("$ref")
            if isinstance(ref, str):
                t = self._ref_type(ref, pp)
                parent = self._parent_model(t, pp)
                if parent is not None:
                    parents.append((parent, pp))
                continue
            required |= set(_strs(pd.get("required")))
            self._collect_props(pd, pp, name, own_props)
            for j, sub in enumerate(_as_list(pd.get("allOf"))):
                sd = _as_dict(sub)
                if sd is None:
                    continue
                if isinstance(sd.get("$ref"), str):
                    parent = self._parent_model(self._ref_type(sd["$ref"], pp), pp)
                    if parent is not None:
                        parents.append((parent, f"{pp}/allOf/{j}"))
                else:
                    required |= set(_strs(sd.get("required")))
                    self._collect_props(sd, f"{pp}/allOf/{j}", name, own_props)
        self._collect_props(s, ptr, name, own_props)
        extra_schema = _as_dict(s.get("additionalProperties"))
        if extra_schema:
            extra = self.type_of(extra_schema, ptr + "/additionalProperties", name + "Value")

        own_wires = [w for w, _, _, _ in own_props]
        if len(parents) == 1:
            parent = parents[0][0]
            parent_fields = self.all_fields(parent)
            parent_wires = {f.wire for f in parent_fields}
            parent_required = {f.wire for f in parent_fields if f.required}
            clash = parent_wires & set(own_wires)
            needs = required & (parent_wires - parent_required)
            if not clash and not needs:
                base = parent.name
            else:
                inherited = list(parent_fields)
        else:
            for parent, _ in parents:
                inherited.extend(self.all_fields(parent))

        fields: list[ModelField] = []
        taken: set[str] = set()
        if base is not None:
            taken = {f.name for f in self.all_fields(self.models[base])}
        seen_wires: set[str] = set()
        for f in inherited:
            if f.wire in seen_wires or f.wire in own_wires:
                continue
            seen_wires.add(f.wire)
            req = f.required or (f.wire in required and not (f.read_only or f.write_only))
            fields.append(replace(f, required=req) if req != f.required else f)
            taken.add(f.name)
        for wire, ps, pptr, hint in own_props:
            if wire in seen_wires:
                continue
            seen_wires.add(wire)
            field = self._field(wire, ps, pptr, hint, wire in required, taken)
            taken.add(field.name)
            fields.append(field)
        return Model(
            name=name,
            pointer=ptr,
            fields=tuple(fields),
            description=description,
            base=base,
            deprecated=bool(s.get("deprecated")),
            extra_type=extra,
        )

    def _collect_props(
        self, s: Schema, ptr: str, owner: str, out: list[tuple[str, Schema, str, str]]
    ) -> None:
        props = _as_dict(s.get("properties")) or {}
        for wire, ps in props.items():
            pd = _as_dict(ps)
            if pd is None:
                pd = {}
            out.append(
                (wire, pd, f"{ptr}/properties/{escape_pointer_token(wire)}", owner + N.pascal(wire))
            )

    def _parent_model(self, t: TypeRef, ptr: str) -> Model | None:
        if t.kind != "model":
            if t.kind != "any":
                self.sink.add(
                    ptr,
                    "allOf member is not an object; its constraints are not kept",
                    code="all-of",
                    severity=Severity.INFO,
                )
            return None
        model = self.models.get(t.name)
        if model is None:
            self.sink.add(
                ptr,
                f"allOf refers back to {t.name} while it is being defined; "
                "its fields are not merged",
                code="recursive-all-of",
            )
        return model

    def all_fields(self, model: Model) -> list[ModelField]:
        """Every field of a model, its bases' first."""
        out: list[ModelField] = []
        if model.base is not None and model.base in self.models:
            out.extend(self.all_fields(self.models[model.base]))
        out.extend(model.fields)
        return out

    def _field(
        self, wire: str, ps: Schema, ptr: str, hint: str, required: bool, taken: set[str]
    ) -> ModelField:
        name = N.safe_attribute(N.snake(wire), taken=taken)
        t = self.type_of(ps, ptr, hint)
        read_only = ps.get("readOnly") is True
        write_only = ps.get("writeOnly") is True
        if read_only or write_only:
            required = False
        if not required:
            t = t.with_nullable(True)
        raw_default = ps.get("default")
        default, factory = default_expression(raw_default, t, self.enums, self.aliases)
        if raw_default is not None and default is None and factory is None:
            self.sink.add(
                ptr + "/default",
                default_problem(raw_default, t),
                code="invalid-default",
                severity=Severity.INFO if t.kind == "any" else Severity.WARNING,
            )
        return ModelField(
            name=name,
            wire=wire,
            type=t,
            required=required,
            default=default,
            default_factory=factory,
            description=_text(ps.get("description")) or _text(ps.get("title")),
            deprecated=ps.get("deprecated") is True,
            read_only=read_only,
            write_only=write_only,
            constraints=constraints_of(ps),
        )


def _strs(value: object) -> list[str]:
    return [v for v in _as_list(value) if isinstance(v, str)]


def _unescape(token: str) -> str:
    from urllib.parse import unquote

    return unquote(token).replace("~1", "/").replace("~0", "~")


def _guess_type(s: Schema) -> str | None:
    if "properties" in s or "additionalProperties" in s:
        return "object"
    if "items" in s:
        return "array"
    values = _as_list(s.get("enum"))
    if values and all(isinstance(v, str) for v in values):
        return "string"
    return None


def _int_member(v: str | int) -> str:
    n = int(v)
    return f"VALUE_{n}" if n >= 0 else f"VALUE_MINUS_{-n}"


def _literal(value: object, ptr: str, sink: DiagnosticSink) -> TypeRef:
    if isinstance(value, float):
        # PEP 586: Literal takes ints, strings, bytes, booleans, enums and None, not floats.
        sink.add(
            ptr + "/const",
            f"const {value!r} is typed float: a Literal cannot hold a float",
            code="const",
            severity=Severity.INFO,
        )
        return TypeRef("float")
    if isinstance(value, (str, int, bool)):
        return TypeRef("literal", values=(value,))
    if value is None:
        return NONE
    sink.add(ptr + "/const", "const of a non-scalar value; using Any", code="const")
    return ANY
