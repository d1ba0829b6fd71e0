"""Unit tests of ``minimal_args``: every value it builds validates with ``jsonschema``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any, cast

import pytest
from jsonschema import Draft4Validator, ValidationError
from jsonschema import validators as jsonschema_validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.e2e.conftest import CAMUNDA_SPEC
from tests.e2e.minimal_args import (
    FILE_CONTENT,
    SchemaSampler,
    UnsatisfiableSchemaError,
    operation_args,
    python_pattern,
)

# Operations whose schema admits no request (see test_camunda_prism.EXPECTED_REJECTIONS).
UNSATISFIABLE = {"getResource", "getResourceContent", "getResourceContentBinary", "deleteResource"}


def _to_draft4(node: Any, document: Mapping[str, Any]) -> Any:
    """An OpenAPI 3.0 schema tree as JSON Schema draft 4, seen from the request side.

    ``nullable`` becomes a ``null`` type (OpenAPI 3.0 §4.7.24); required ``readOnly``
    properties are not required in requests (OpenAPI 3.0 "readOnly").
    """
    if isinstance(node, list):
        return [_to_draft4(v, document) for v in cast("list[Any]", node)]
    if not isinstance(node, Mapping):
        return node
    out = {k: _to_draft4(v, document) for k, v in cast("Mapping[str, Any]", node).items()}
    if out.get("additionalProperties") is False and isinstance(out.get("allOf"), list):
        # Prism merges allOf before validating (json-schema-merge-allof), so properties that an
        # allOf member declares are not "additional"; Camunda's schemas rely on that.
        inherited = _inherited_properties(cast("list[Any]", node["allOf"]), document)
        own = cast("dict[str, Any]", out.get("properties") or {})
        out["properties"] = {**{name: {} for name in inherited}, **own}
    props = out.get("properties")
    if isinstance(out.get("required"), list) and isinstance(props, dict):
        typed = cast("dict[str, Any]", props)
        out["required"] = [
            r for r in cast("list[Any]", out["required"]) if not _read_only(typed.get(r), document)
        ]
        if not out["required"]:
            del out["required"]  # draft 4 forbids an empty list
    if out.get("nullable") is True:
        del out["nullable"]
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list):
                out["enum"] = [*cast("list[Any]", out["enum"]), None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


def _inherited_properties(parts: list[Any], document: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for part in parts:
        schema = SchemaSampler(document).resolve(part)
        names += list(cast("Mapping[str, Any]", schema.get("properties") or {}))
    return names


def _read_only(schema: Any, document: Mapping[str, Any]) -> bool:
    if not isinstance(schema, Mapping):
        return False
    node = cast("Mapping[str, Any]", schema)
    if node.get("readOnly") is True:
        return True
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _read_only(SchemaSampler(document).lookup(ref), document)
    return False


@cache
def _camunda() -> dict[str, Any]:
    return json.loads(CAMUNDA_SPEC.read_text(encoding="utf-8"))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """``pattern`` with ECMAScript syntax: Python's ``re`` lacks ``\\p{..}`` (python_pattern)."""
    if isinstance(instance, str) and python_pattern(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# jsonschema.validators.extend has no annotations; the result is a Draft4Validator class.
OpenApi30Validator: Any = cast("Any", jsonschema_validators).extend(
    Draft4Validator, {"pattern": _ecma_pattern}
)


class Checker:
    """Validates values against schemas of one document with ``jsonschema`` (draft 4)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        contents = _to_draft4(document, document)
        resource: Resource[Any] = Resource(contents=contents, specification=DRAFT4)
        self.registry: Registry[Any] = Registry[Any]().with_resource("urn:doc", resource)

    def errors(self, value: Any, pointer: str) -> list[str]:
        """Validation errors of ``value`` against the schema at ``pointer``."""
        ref = "urn:doc" + pointer
        validator = OpenApi30Validator(
            {"$ref": ref}, registry=self.registry, format_checker=Draft4Validator.FORMAT_CHECKER
        )
        return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(value)]


def _wire(value: Any) -> Any:
    """Multipart values as Prism sees them: file content is a string."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [_wire(v) for v in cast("list[Any]", value)]
    return value


def _sample_valid(schemas: dict[str, Any], name: str, **kwargs: Any) -> Any:
    """Sample ``#/components/schemas/<name>`` of a tiny document and check it with jsonschema."""
    document = {"openapi": "3.0.3", "components": {"schemas": schemas}}
    pointer = f"#/components/schemas/{name}"
    value = SchemaSampler(document, **kwargs).sample({"$ref": pointer})
    assert Checker(document).errors(_wire(value), pointer) == []
    return value


def _operations(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path, item in cast("Mapping[str, Any]", document["paths"]).items():
        for method, op in cast("Mapping[str, Any]", item).items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                pointer = "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method
                out.append((str(cast("Mapping[str, Any]", op)["operationId"]), pointer))
    return out


def _declared_params(sampler: SchemaSampler, pointer: str) -> list[tuple[Mapping[str, Any], str]]:
    """Every parameter of an operation (path-level first) and its schema's pointer."""
    out: list[tuple[Mapping[str, Any], str]] = []
    for owner in (pointer.rsplit("/", 1)[0], pointer):
        node = cast("Mapping[str, Any]", sampler.lookup(owner))
        for index, raw in enumerate(cast("list[Any]", node.get("parameters") or [])):
            where = f"{owner}/parameters/{index}"
            ref = cast("Mapping[str, Any]", raw).get("$ref")
            if isinstance(ref, str):
                where = ref
            out.append((cast("Mapping[str, Any]", sampler.lookup(where)), f"{where}/schema"))
    return out


def test_every_camunda_operation_gets_valid_args_when_built_from_the_schema() -> None:
    document = _camunda()
    checker = Checker(document)
    sampler = SchemaSampler(document)
    problems: list[str] = []
    built = 0
    for op_id, pointer in _operations(document):
        if op_id in UNSATISFIABLE:
            with pytest.raises(UnsatisfiableSchemaError, match="oneOf"):
                operation_args(document, pointer, sampler=sampler)
            continue
        args = operation_args(document, pointer, sampler=sampler)
        built += 1
        for param, schema_ptr in _declared_params(sampler, pointer):
            key = (str(param["in"]), str(param["name"]))
            if not (param.get("required") or key[0] == "path"):
                assert key not in args.params, f"{op_id}: optional {key} was filled"
                continue
            errors = checker.errors(args.params[key], schema_ptr)
            problems += [f"{op_id} {key}: {e}" for e in errors]
        if args.content_type is not None:
            ct = args.content_type.replace("/", "~1")
            media = cast("Mapping[str, Any]", sampler.lookup(f"{pointer}/requestBody/content/{ct}"))
            if "schema" not in media:
                continue
            body_ptr = f"{pointer}/requestBody/content/{ct}/schema"
            problems += [f"{op_id} body: {e}" for e in checker.errors(_wire(args.body), body_ptr)]
    assert problems == []
    assert built > 200


def test_ref_and_all_of_are_merged_when_both_parts_require_fields() -> None:
    schemas = {
        "Base": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}},
        "Child": {
            "allOf": [{"$ref": "#/components/schemas/Base"}],
            "type": "object",
            "required": ["b"],
            "properties": {"b": {"type": "integer", "minimum": 5}, "c": {"type": "string"}},
        },
    }
    assert _sample_valid(schemas, "Child") == {"a": "a", "b": 5}


def test_one_of_branch_is_completed_when_its_minimal_value_matches_two_branches() -> None:
    schemas = {
        "A": {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": False,
        },
        "B": {
            "type": "object",
            "properties": {"b": {"type": "string"}},
            "additionalProperties": False,
        },
        "AorB": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]},
    }
    assert _sample_valid(schemas, "AorB") == {"a": "a"}


def test_discriminator_value_is_set_when_a_one_of_has_a_mapping() -> None:
    schemas = {
        "Text": {
            "type": "object",
            "required": ["kind", "text"],
            "properties": {"kind": {"type": "string"}, "text": {"type": "string"}},
        },
        "Content": {
            "oneOf": [{"$ref": "#/components/schemas/Text"}],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {"TEXT": "#/components/schemas/Text"},
            },
        },
    }
    assert _sample_valid(schemas, "Content") == {"kind": "TEXT", "text": "a"}


def test_first_non_null_enum_value_and_const_are_used_when_declared() -> None:
    schemas = {
        "E": {"type": "string", "nullable": True, "enum": [None, "B", "C"]},
        "K": {"const": 7},
        "Both": {
            "type": "object",
            "required": ["e", "k"],
            "properties": {
                "e": {"$ref": "#/components/schemas/E"},
                "k": {"$ref": "#/components/schemas/K"},
            },
        },
    }
    assert _sample_valid(schemas, "Both") == {"e": "B", "k": 7}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string", "format": "date"}, "2024-01-01"),
        ({"type": "string", "format": "uuid"}, "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ({"type": "integer", "format": "int64"}, 1),
        ({"type": "integer", "minimum": 10, "maximum": 20}, 10),
        ({"type": "integer", "minimum": 10, "exclusiveMinimum": True}, 11),
        ({"type": "integer", "maximum": 0}, 0),
        ({"type": "number", "minimum": 0.5, "multipleOf": 0.25}, 0.5),
        ({"type": "integer", "minimum": 3, "multipleOf": 5}, 5),
        ({"type": "string", "minLength": 3, "maxLength": 3}, "aaa"),
        (
            {"type": "array", "minItems": 2, "uniqueItems": True, "items": {"type": "string"}},
            ["a", "a1"],
        ),
        ({"type": "boolean"}, False),
    ],
)
def test_format_and_bounds_are_honoured_when_the_schema_states_them(
    schema: dict[str, Any], expected: Any
) -> None:
    assert _sample_valid({"S": schema}, "S") == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^-?[0-9]+$", "1"),
        (r"^[\p{L}_][\p{L}\p{N}_\-\.]*$", "a"),
        (r"^[0-9]+-[0-9]+$", "1-1"),
        (r"^\d*\*$", "1*"),
        (r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=)?$", "a1"),
        (r"^(<default>|[\w\.\-]{1,31})$", "a"),
    ],
)
def test_pattern_is_matched_when_the_example_breaks_it(pattern: str, expected: str) -> None:
    # Camunda's examples break its own patterns (e.g. jobKey "string"): they are never used.
    schema = {"type": "string", "pattern": pattern, "example": "string value!"}
    if "\\p" in pattern:
        # jsonschema's `re` cannot compile \p{..}; check the ASCII translation instead.
        value = SchemaSampler({}).sample(schema)
        assert python_pattern(pattern).search(value)
        assert value == expected
        return
    assert _sample_valid({"S": schema}, "S") == expected


def test_pattern_translation_accepts_ascii_letters_when_it_has_unicode_classes() -> None:
    compiled = python_pattern(r"^[\p{L}_][\p{L}\p{N}_\-\.]*$")
    assert compiled.search("order_1.v-2")
    assert compiled.search("1abc") is None


def test_pattern_is_padded_when_min_length_exceeds_the_candidates() -> None:
    assert _sample_valid({"S": {"type": "string", "pattern": "^[a-z]+$", "minLength": 5}}, "S") == (
        "aaaaa"
    )


def test_error_names_the_pointer_when_no_candidate_fits_the_pattern() -> None:
    with pytest.raises(UnsatisfiableSchemaError, match=r"#/x: no candidate string fits"):
        SchemaSampler({}).sample({"type": "string", "pattern": "^Q{3}Z$"}, where="#/x")


def test_read_only_properties_are_left_out_when_building_a_request() -> None:
    schemas = {
        "R": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "string", "readOnly": True}, "name": {"type": "string"}},
        }
    }
    assert _sample_valid(schemas, "R") == {"name": "a"}


def test_file_fields_get_bytes_when_the_body_is_multipart() -> None:
    schemas = {
        "Upload": {
            "type": "object",
            "required": ["file", "files"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            },
        }
    }
    value = _sample_valid(schemas, "Upload", request=True)
    document = {"components": {"schemas": schemas}}
    multipart = SchemaSampler(document).sample(
        {"$ref": "#/components/schemas/Upload"}, mode="multipart"
    )
    assert value == {"file": "a", "files": []}
    assert multipart == {"file": FILE_CONTENT, "files": [FILE_CONTENT]}


def test_overlapping_one_of_is_refused_when_strict_and_accepted_when_lenient() -> None:
    document = _camunda()
    resource_key = {"$ref": "#/components/schemas/ResourceKey"}
    with pytest.raises(UnsatisfiableSchemaError, match="oneOf"):
        SchemaSampler(document).sample(resource_key)
    assert SchemaSampler(document, strict_one_of=False).sample(resource_key) == "1"


def test_binary_and_multipart_bodies_are_built_when_an_operation_uploads() -> None:
    document = _camunda()
    deploy = operation_args(document, "#/paths/~1deployments/post")
    assert deploy.content_type == "multipart/form-data"
    assert deploy.body == {"resources": [FILE_CONTENT]}
    assert deploy.body_required
    search = operation_args(document, "#/paths/~1process-instances~1search/post")
    assert search.body == {}
    assert not search.body_required
    get = operation_args(document, "#/paths/~1jobs~1{jobKey}~1completion/post")
    assert get.params == {("path", "jobKey"): "1"}


def test_checker_reports_errors_when_a_value_breaks_the_schema() -> None:
    # Guards the tests above against a checker that accepts everything.
    checker = Checker(_camunda())
    assert checker.errors("1", "#/components/schemas/LongKey") == []
    assert checker.errors("abc", "#/components/schemas/LongKey") != []
    assert checker.errors("1", "#/components/schemas/ResourceKey") != []  # overlapping oneOf
    assert checker.errors({}, "#/components/schemas/MappingRuleCreateRequest") != []


def test_optional_properties_are_filled_when_asked_for_levels() -> None:
    schemas = {
        "Inner": {"type": "object", "properties": {"x": {"type": "integer"}}},
        "Outer": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "inner": {"$ref": "#/components/schemas/Inner"},
            },
        },
    }
    document = {"components": {"schemas": schemas}}
    outer = {"$ref": "#/components/schemas/Outer"}
    assert SchemaSampler(document).sample(outer) == {"id": "a"}
    assert SchemaSampler(document).sample(outer, fill_optional=1) == {
        "id": "a",
        "tags": [],
        "inner": {},
    }
    assert SchemaSampler(document).sample(outer, fill_optional=2) == {
        "id": "a",
        "tags": ["a"],
        "inner": {"x": 1},
    }


def test_required_parameters_of_every_location_are_built_when_declared_anywhere() -> None:
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "components": {
            "parameters": {
                "Key": {
                    "name": "key",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            },
            "requestBodies": {
                "Raw": {"required": True, "content": {"application/octet-stream": {}}}
            },
        },
        "paths": {
            "/things/{key}": {
                "parameters": [{"$ref": "#/components/parameters/Key"}],
                "put": {
                    "parameters": [
                        {"name": "q", "in": "query", "required": True, "schema": {"enum": ["x"]}},
                        {"name": "opt", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "X-Id",
                            "in": "header",
                            "required": True,
                            "schema": {"format": "uuid"},
                        },
                        {
                            "name": "filter",
                            "in": "query",
                            "required": True,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["a"],
                                        "properties": {"a": {"type": "boolean"}},
                                    }
                                }
                            },
                        },
                    ],
                    "requestBody": {"$ref": "#/components/requestBodies/Raw"},
                },
                "post": {
                    "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}},
                },
            }
        },
    }
    put = operation_args(document, "#/paths/~1things~1{key}/put")
    assert put.params == {
        ("path", "key"): 1,
        ("query", "q"): "x",
        ("header", "X-Id"): "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        ("query", "filter"): {"a": False},
    }
    assert (put.body, put.content_type, put.body_required) == (
        FILE_CONTENT,
        "application/octet-stream",
        True,
    )
    post = operation_args(document, "#/paths/~1things~1{key}/post")
    assert (post.body, post.content_type, post.body_required) == ("loom", "text/plain", False)
