"""Swagger 2.0 → OpenAPI 3.0.3: each conversion rule, and diagnostics that point into the input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError
from loom.codegen.sources import load_document, load_text
from tests.codegen.swagger2_support import FIXTURES, ir_of

RULES = FIXTURES / "rules"


def _load(name: str) -> tuple[dict[str, Any], DiagnosticSink]:
    sink = DiagnosticSink()
    loaded = load_document(RULES / name, sink=sink)
    assert loaded.converted_from == "swagger-2.0"
    assert loaded.document["openapi"] == "3.0.3"
    return loaded.document, sink


def _pointers(sink: DiagnosticSink) -> dict[str, str]:
    return {d.pointer: d.code for d in sink.items}


def test_definitions_become_component_schemas_with_refs_rewritten_when_converted() -> None:
    doc, _ = _load("definitions.yaml")
    schemas = doc["components"]["schemas"]
    assert set(schemas) == {"Animal", "Dog", "Tree"}
    assert schemas["Dog"]["allOf"][0] == {"$ref": "#/components/schemas/Animal"}
    assert schemas["Tree"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Tree"
    }
    assert schemas["Animal"]["required"] == ["name", "id"]  # `required: true` lifted
    assert "required" not in schemas["Animal"]["properties"]["id"]


def test_body_parameter_becomes_request_body_per_consumed_type_when_converted() -> None:
    doc, _ = _load("body.yaml")
    create = doc["paths"]["/orders"]["post"]
    assert "parameters" not in create
    assert create["requestBody"]["required"] is True
    assert create["requestBody"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Order"}}
    }
    replace = doc["paths"]["/orders/{id}"]["put"]
    assert replace["requestBody"]["description"] == "The new order"
    assert replace["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Order"
    }
    annotate = doc["paths"]["/orders/{id}"]["patch"]  # the path item's body applies
    assert annotate["requestBody"]["content"]["application/json"]["schema"] == {"type": "string"}
    assert doc["paths"]["/orders/{id}"]["parameters"][0]["schema"] == {
        "type": "integer",
        "format": "int64",
    }


def test_form_data_becomes_url_encoded_or_multipart_with_files_when_converted() -> None:
    doc, _ = _load("form_data.yaml")
    login = doc["paths"]["/login"]["post"]["requestBody"]
    form = login["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["username", "password"]
    assert form["properties"]["remember"] == {"type": "boolean", "default": False}
    upload = doc["paths"]["/files"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "The file",
    }
    assert "encoding" not in upload  # multi is the default of form encoding
    avatar = doc["paths"]["/avatar"]["put"]["requestBody"]["content"]
    assert list(avatar) == ["multipart/form-data"]  # a file cannot be url-encoded


def test_consumes_and_produces_apply_per_operation_and_globally_when_converted() -> None:
    doc, _ = _load("consumes_produces.yaml")
    reports = doc["paths"]["/reports"]
    assert list(reports["get"]["responses"]["200"]["content"]) == [
        "application/json",
        "application/xml",
    ]
    assert list(reports["post"]["requestBody"]["content"]) == ["application/xml"]
    csv = doc["paths"]["/reports/{id}.csv"]["get"]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"]
    api = ir_of(RULES / "consumes_produces.yaml")
    kinds = {op.operation_id: op.response_kind for op in api.operations}
    assert kinds == {
        "listReports": "json",
        "createReport": "json",
        "exportReport": "text",
        "downloadReport": "bytes",
    }


def test_security_definitions_become_schemes_and_bad_ones_are_reported_when_converted() -> None:
    doc, sink = _load("security.yaml")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["basicAuth"] == {
        "type": "http",
        "scheme": "basic",
        "description": "user and password",
    }
    assert schemes["queryKey"] == {"type": "apiKey", "name": "api_key", "in": "query"}
    flows = {
        name: next(iter(schemes[name]["flows"])) for name in schemes if "flows" in schemes[name]
    }
    assert flows == {
        "implicit": "implicit",
        "password": "password",
        "application": "clientCredentials",
        "accessCode": "authorizationCode",
    }
    assert schemes["accessCode"]["flows"]["authorizationCode"]["scopes"] == {}
    assert "cookieKey" not in schemes
    assert "noUrl" not in schemes
    paths = doc["paths"]
    assert paths["/public"]["get"]["security"] == []
    assert paths["/admin"]["get"]["security"] == [{"application": ["admin"]}, {"basicAuth": []}]
    assert paths["/broken"]["get"]["security"] == [{"queryKey": []}]
    assert "security" not in paths["/undefined"]["get"]  # never a dangling scheme name
    assert _pointers(sink) == {
        "#/securityDefinitions/cookieKey": "invalid-security",
        "#/securityDefinitions/noUrl": "invalid-security",
        "#/paths/~1broken/get/security/0/cookieKey": "unknown-security-scheme",
        "#/paths/~1undefined/get/security/0/nowhere": "unknown-security-scheme",
    }


def test_collection_formats_become_styles_when_converted() -> None:
    api = ir_of(RULES / "collection_format.yaml")
    ops = {op.operation_id: op for op in api.operations}
    styles = {p.wire: (p.style, p.explode) for p in ops["search"].params}
    assert styles == {
        "ids": ("simple", False),
        "csv": ("form", False),
        "plain": ("form", False),  # csv is the default
        "ssv": ("spaceDelimited", False),
        "tsv": ("tabDelimited", False),
        "pipes": ("pipeDelimited", False),
        "multi": ("form", True),
        "X-Tags": ("pipeDelimited", False),
    }
    body = ops["setTags"].body
    assert body is not None
    assert [(name, e.style, e.explode) for name, e in body.encoding] == [
        ("csv", "form", False),
        ("pipes", "pipeDelimited", False),
    ]


def test_x_nullable_becomes_nullable_on_properties_refs_items_and_parameters() -> None:
    doc, _ = _load("nullable.yaml")
    person = doc["components"]["schemas"]["Person"]["properties"]
    assert person["nickname"] == {"type": "string", "nullable": True}
    assert person["address"] == {"$ref": "#/components/schemas/Address", "nullable": True}
    assert person["scores"]["items"] == {"type": "integer", "nullable": True}
    param = doc["paths"]["/people"]["get"]["parameters"][0]
    assert param["schema"] == {"type": "string", "nullable": True}
    assert "x-nullable" not in param


def test_type_file_becomes_binary_and_json_declared_files_become_octet_streams() -> None:
    doc, _ = _load("file_type.yaml")
    download = doc["paths"]["/documents/{id}"]["get"]["responses"]["200"]["content"]
    assert download == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    declared = doc["paths"]["/documents/{id}/json-file"]["get"]["responses"]["200"]["content"]
    assert list(declared) == ["application/octet-stream"]


def test_host_base_path_and_schemes_become_servers_with_operation_overrides() -> None:
    doc, sink = _load("servers.yaml")
    assert doc["servers"] == [
        {"url": "https://api.example.com:8443/v2"},
        {"url": "http://api.example.com:8443/v2"},
    ]
    assert doc["paths"]["/legacy"]["get"]["servers"] == [{"url": "http://api.example.com:8443/v2"}]
    assert doc["paths"]["/secure"]["get"]["servers"] == [{"url": "https://api.example.com:8443/v2"}]
    # the client's base URL (the first server) does not reach /legacy: said, not dropped
    assert _pointers(sink) == {"#/paths/~1legacy/get/schemes": "operation-servers"}
    assert ir_of(RULES / "servers.yaml").default_base_url == "https://api.example.com:8443/v2"


def test_server_is_the_base_path_when_there_is_no_host() -> None:
    text = '{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "basePath": "/api", '
    text += '"paths": {}}'
    loaded = load_text(text, sink=DiagnosticSink())
    assert loaded.document["servers"] == [{"url": "/api"}]


def test_response_headers_get_schemas_when_converted() -> None:
    doc, sink = _load("response_headers.yaml")
    headers = doc["paths"]["/items"]["get"]["responses"]["200"]["headers"]
    assert headers["X-Rate-Limit"] == {
        "description": "calls per hour",
        "schema": {"type": "integer", "format": "int32"},
    }
    assert headers["X-Tags"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert _pointers(sink) == {
        "#/paths/~1items/get/responses/200/headers/X-Tags/collectionFormat": (
            "header-collection-format"
        )
    }


def test_discriminator_string_becomes_property_name_when_converted() -> None:
    doc, _ = _load("discriminator.yaml")
    assert doc["components"]["schemas"]["Shape"]["discriminator"] == {"propertyName": "shapeType"}


def test_allow_empty_value_is_kept_on_query_parameters_only() -> None:
    doc, sink = _load("allow_empty_value.yaml")
    params = doc["paths"]["/flags"]["get"]["parameters"]
    assert params[0]["allowEmptyValue"] is True
    assert "allowEmptyValue" not in params[1]
    assert _pointers(sink) == {
        "#/paths/~1flags/get/parameters/1/allowEmptyValue": "invalid-parameter"
    }


def test_parameter_and_response_references_become_component_references() -> None:
    doc, _ = _load("references.yaml")
    components = doc["components"]
    assert set(components["parameters"]) == {"limit", "offset", "itemId", "traceId"}
    assert components["parameters"]["limit"]["schema"] == {"type": "integer", "maximum": 100}
    items = doc["paths"]["/items"]
    assert items["parameters"] == [{"$ref": "#/components/parameters/traceId"}]
    assert items["get"]["responses"]["default"] == {"$ref": "#/components/responses/Unexpected"}
    not_found = components["responses"]["NotFound"]["content"]["application/json"]["schema"]
    assert not_found == {"$ref": "#/components/schemas/Problem"}


def test_definitions_in_other_files_are_bundled_and_converted() -> None:
    sink = DiagnosticSink()
    loaded = load_document(RULES / "external" / "api.yaml", sink=sink)
    schemas = loaded.document["components"]["schemas"]
    assert set(schemas) == {"Local", "Owner", "Pet"}
    assert schemas["Owner"]["properties"]["nickname"] == {"type": "string", "nullable": True}
    assert schemas["Pet"]["discriminator"] == {"propertyName": "kind"}
    assert schemas["Pet"]["properties"]["photo"] == {"type": "string", "format": "binary"}
    limit = loaded.document["paths"]["/owners"]["get"]["parameters"][0]
    assert limit["schema"] == {"type": "integer", "format": "int32"}
    assert sink.items == []


def test_ir_diagnostics_point_into_the_swagger_document_when_a_type_is_unknown() -> None:
    text = """
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    post:
      parameters:
        - {name: q, in: query, type: string}
        - {name: b, in: body, schema: {type: object, properties: {x: {type: strng}}}}
        - {name: h, in: header, type: array, items: {type: nmber}}
      responses: {"200": {description: ok, schema: {$ref: "#/definitions/D"}}}
definitions:
  D: {type: object, properties: {y: {type: intger}}}
"""
    sink = DiagnosticSink()
    loaded = load_text(text, sink=sink)
    from loom.codegen.config import GeneratorConfig
    from loom.codegen.ir.build import build_api

    build_api(loaded.document, GeneratorConfig(), sink)
    unknown = sorted(d.pointer for d in sink.items if d.code == "unknown-type")
    assert unknown == [
        "#/definitions/D/properties/y",
        "#/paths/~1a/post/parameters/1/schema/properties/x",
        "#/paths/~1a/post/parameters/2/items",
    ]


def test_dangling_definition_reference_is_an_error_at_the_input_pointer() -> None:
    text = """
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses: {"200": {description: ok, schema: {$ref: "#/definitions/Missing"}}}
definitions:
  Unused: {type: object, properties: {x: {$ref: "#/definitions/Gone"}}}
"""
    sink = DiagnosticSink()
    load_text(text, sink=sink)
    found = {d.pointer: (d.severity.value, d.message) for d in sink.items}
    severity, message = found["#/paths/~1a/get/responses/200/schema"]
    assert severity == "error"
    assert message.startswith("$ref '#/definitions/Missing' does not resolve")
    assert found["#/definitions/Unused/properties/x"][0] == "warning"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"swaggerVersion": "1.2", "apis": []}', "Swagger 1.2 is not supported; Swagger 1.x"),
        ('{"swagger": "3.0", "paths": {}}', "Swagger 3.0 is not supported; loom reads"),
        ('{"swagger": "2.0", "info": {}}', "the Swagger 2.0 document has no `paths`"),
    ],
)
def test_unsupported_swagger_documents_are_refused_clearly(text: str, expected: str) -> None:
    with pytest.raises(FatalSchemaError) as caught:
        load_text(text, sink=DiagnosticSink())
    assert expected in str(caught.value)


def test_cli_generates_from_swagger_2_and_reports_input_pointers(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loom",
            "generate",
            str(RULES / "security.yaml"),
            "-o",
            str(tmp_path / "sdk"),
            "--diagnostics",
            "all",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "#/securityDefinitions/noUrl: the OAuth2 application flow needs `tokenUrl`" in (
        result.stderr
    )
    assert "loom: 4 operations" in result.stdout


def test_form_field_diagnostics_point_at_their_form_data_parameters() -> None:
    text = """
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    post:
      parameters:
        - {name: f, in: formData, type: strng}
        - {name: g, in: formData, type: array, items: {type: nmbr}}
      responses: {"200": {description: ok}}
"""
    sink = DiagnosticSink()
    loaded = load_text(text, sink=sink)
    from loom.codegen.config import GeneratorConfig
    from loom.codegen.ir.build import build_api

    build_api(loaded.document, GeneratorConfig(), sink)
    assert sorted(d.pointer for d in sink.items) == [
        "#/paths/~1a/post/parameters/0",
        "#/paths/~1a/post/parameters/1/items",
    ]
