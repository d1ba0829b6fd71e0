"""The IR decides names, types and defaults; templates only print them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.ir.model import Api, Model, TypeRef

CAMUNDA = Path(__file__).parent.parent.parent / "examples" / "camunda" / "rest-api.bundle.json"


def _api(schemas: dict[str, Any], paths: dict[str, Any] | None = None, **cfg: Any) -> Api:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths or {},
        "components": {"schemas": schemas},
    }
    return build_api(doc, GeneratorConfig(**cfg), DiagnosticSink())


def _model(api: Api, name: str) -> Model:
    return next(m for m in api.models if m.name == name)


def test_nullable_forms_agree_when_written_in_30_and_31_styles() -> None:
    api = _api(
        {
            "M": {
                "type": "object",
                "required": ["a", "b", "c"],
                "properties": {
                    "a": {"type": "string", "nullable": True},
                    "b": {"type": ["string", "null"]},
                    "c": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
            }
        }
    )
    fields = {f.name: f for f in _model(api, "M").fields}
    assert {f.type for f in fields.values()} == {TypeRef("str", nullable=True)}
    assert all(f.required for f in fields.values())


def test_all_of_with_one_parent_inherits_when_fields_do_not_clash() -> None:
    api = _api(
        {
            "Base": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Child": {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    {"type": "object", "properties": {"name": {"type": "string"}}},
                ]
            },
        }
    )
    child = _model(api, "Child")
    assert child.base == "Base"
    assert [f.name for f in child.fields] == ["name"]


def test_all_of_is_merged_when_there_are_several_parents() -> None:
    api = _api(
        {
            "A": {"type": "object", "properties": {"a": {"type": "integer"}}},
            "B": {"type": "object", "properties": {"b": {"type": "string"}}},
            "C": {
                "allOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}],
                "required": ["a"],
            },
        }
    )
    c = _model(api, "C")
    assert c.base is None
    assert [(f.name, f.required) for f in c.fields] == [("a", True), ("b", False)]


def test_discriminator_mapping_gives_tags_when_one_of_has_one() -> None:
    api = _api(
        {
            "Cat": {"type": "object", "properties": {"t": {"type": "string"}}},
            "Dog": {"type": "object", "properties": {"t": {"type": "string"}}},
            "Pet": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Cat"},
                    {"$ref": "#/components/schemas/Dog"},
                ],
                "discriminator": {
                    "propertyName": "t",
                    "mapping": {
                        "c": "#/components/schemas/Cat",
                        "kitty": "#/components/schemas/Cat",
                    },
                },
            },
        }
    )
    pet = next(a for a in api.aliases if a.name == "Pet").target
    assert pet.discriminator == "t"
    assert pet.tags == (("c", "kitty"), ("Dog",))


def test_inline_schemas_get_names_from_where_they_sit_when_nested() -> None:
    api = _api(
        {
            "Order": {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["open", "closed"]},
                    "lines": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"sku": {"type": "string"}}},
                    },
                },
            }
        },
        paths={
            "/orders": {
                "post": {
                    "operationId": "placeOrder",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"x": {"type": "integer"}},
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    )
    names = {m.name for m in api.models} | {e.name for e in api.enums}
    assert {"OrderStatus", "OrderLinesItem", "PlaceOrderRequest"} <= names


def test_component_keys_name_models_when_titles_collide() -> None:
    api = _api(
        {
            "StringFilter": {
                "title": "Advanced filter",
                "type": "object",
                "properties": {"eq": {"type": "string"}},
            },
            "IntFilter": {
                "title": "Advanced filter",
                "type": "object",
                "properties": {"eq": {"type": "integer"}},
            },
        }
    )
    assert {m.name for m in api.models} == {"StringFilter", "IntFilter"}


def test_duplicate_enum_values_are_listed_once_with_a_diagnostic() -> None:
    sink = DiagnosticSink()
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": {"E": {"type": "string", "enum": ["a", "a", "A"]}}},
    }
    api = build_api(doc, GeneratorConfig(), sink)
    assert [m.value for m in api.enums[0].members] == ["a", "A"]
    assert [m.name for m in api.enums[0].members] == ["A", "A2"]
    assert any(d.code == "duplicate-enum-value" for d in sink.items)


def test_constraints_are_kept_only_when_model_is_request_only() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "string", "pattern": "^[0-9]+$"}}}
    op = {
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}
        },
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Both"}}},
            }
        },
    }
    op2 = {
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Both"}}}
        },
        "responses": {"204": {"description": "ok"}},
    }
    api = _api(
        {"In": schema, "Both": schema},
        paths={
            "/a": {"post": {**op, "operationId": "a"}},
            "/b": {"put": {**op2, "operationId": "b"}},
        },
    )
    assert _model(api, "In").request_only
    assert not _model(api, "Both").request_only


def test_semantic_types_are_distinct_when_schema_marks_them() -> None:
    api = _api(
        {
            "JobKey": {"type": "string", "x-semantic-type": "JobKey"},
            "Job": {
                "type": "object",
                "properties": {"key": {"$ref": "#/components/schemas/JobKey"}},
            },
        }
    )
    assert [s.name for s in api.semantic_types] == ["JobKey"]
    assert _model(api, "Job").fields[0].type.name == "JobKey"


def test_every_camunda_operation_and_schema_is_kept_when_generating() -> None:
    doc = json.loads(CAMUNDA.read_text())
    sink = DiagnosticSink()
    api = build_api(doc, GeneratorConfig(), sink)
    n_ops = sum(
        1
        for item in doc["paths"].values()
        for m in item
        if m in {"get", "post", "put", "patch", "delete"}
    )
    assert len(api.operations) == n_ops == 241
    names = (
        {m.name for m in api.models}
        | {e.name for e in api.enums}
        | {a.name for a in api.aliases}
        | {s.name for s in api.semantic_types}
    )
    renamed = {d.pointer.rsplit("/", 1)[-1] for d in sink.items if d.code == "name-collision"}
    missing = [k for k in doc["components"]["schemas"] if k not in names and k not in renamed]
    assert missing == []
    assert renamed == {"Tag"}  # it would shadow pydantic's Tag: it is TagModel, said so
    assert not api.skipped


def test_component_that_is_a_reference_aliases_its_target() -> None:
    api = _api(
        {
            "Pet": {"type": "object", "properties": {"a": {"type": "string"}}},
            "Animal": {"$ref": "#/components/schemas/Pet"},
        }
    )
    alias = next(a for a in api.aliases if a.name == "Animal")
    assert alias.target == TypeRef("model", "Pet")


def test_all_of_with_one_reference_is_that_type_when_it_only_adds_a_description() -> None:
    api = _api(
        {
            "Node": {
                "type": "object",
                "properties": {
                    "parent": {
                        "allOf": [{"$ref": "#/components/schemas/Node"}],
                        "description": "The parent.",
                        "nullable": True,
                    },
                },
            }
        }
    )
    assert [m.name for m in api.models] == ["Node"]
    assert _model(api, "Node").fields[0].type == TypeRef("model", "Node", nullable=True)
