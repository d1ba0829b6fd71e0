"""Focused schemas for the ``loom diff`` tests: a small pets API, edited one change at a time."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]


def ref(name: str) -> Doc:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Doc) -> Doc:
    return {"content": {"application/json": {"schema": schema}}}


BASE: Doc = {
    "openapi": "3.0.3",
    "info": {"title": "pets", "version": "1"},
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "tags": ["pets"],
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {"name": "kind", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": json_body({"type": "array", "items": ref("Pet")})},
            },
            "post": {
                "operationId": "createPet",
                "tags": ["pets"],
                "requestBody": {"required": True, **json_body(ref("NewPet"))},
                "responses": {"201": json_body(ref("Pet"))},
            },
        },
        "/pets/{petId}": {
            "get": {
                "operationId": "getPet",
                "tags": ["pets"],
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {"200": json_body(ref("Pet"))},
            }
        },
    },
    "components": {
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "tag": {"type": "string"},
                    "status": ref("Status"),
                },
            },
            "NewPet": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "tag": {"type": "string"},
                    "age": {"type": "integer", "default": 1},
                },
            },
            "Status": {"type": "string", "enum": ["available", "sold"]},
        }
    },
}


def op(doc: Doc, path: str, method: str) -> Doc:
    return doc["paths"][path][method]


def schema(doc: Doc, name: str) -> Doc:
    return doc["components"]["schemas"][name]
