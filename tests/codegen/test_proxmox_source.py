"""The Proxmox ``apidata.js`` source: detection, parsing as data, and the OpenAPI 3.1 it becomes.

Fixtures: ``tests/fixtures/proxmox/apidata-pve-docs-<version>.js.gz``, the unmodified
``api-viewer/apidata.js`` of proxmox/pve-docs at the 7.4-2, 8.3.2 and 9.1.2 releases.
"""

from __future__ import annotations

import collections
import functools
import gzip
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from loom.codegen.config import GeneratorConfig
from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError
from loom.codegen.ir.build import build_api
from loom.codegen.ir.model import Api, Model
from loom.codegen.sources import load_document
from loom.codegen.sources.proxmox import convert_apidata, parse_apidata
from loom.codegen.sources.proxmox_formats import literal_default, perl_pattern

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "proxmox"
VERSIONS = ("7.4-2", "8.3.2", "9.1.2")

# The table: operations (GET, POST, PUT, DELETE) per release.
EXPECTED = {
    "7.4-2": (540, {"GET": 274, "POST": 144, "PUT": 63, "DELETE": 59}),
    "8.3.2": (605, {"GET": 304, "POST": 155, "PUT": 76, "DELETE": 70}),
    "9.1.2": (649, {"GET": 327, "POST": 169, "PUT": 79, "DELETE": 74}),
}


def apidata_text(version: str) -> str:
    return gzip.decompress((FIXTURES / f"apidata-pve-docs-{version}.js.gz").read_bytes()).decode()


@functools.cache
def converted(version: str) -> dict[str, Any]:
    sink = DiagnosticSink()
    return convert_apidata(
        parse_apidata(apidata_text(version), name=version), sink=sink, version=version
    )


@functools.cache
def api(version: str) -> Api:
    return build_api(converted(version), GeneratorConfig(package="pve_sdk"), DiagnosticSink())


def operation(version: str, method: str, path: str) -> dict[str, Any]:
    return converted(version)["paths"][path][method]


def body_properties(op: dict[str, Any]) -> dict[str, Any]:
    content = op["requestBody"]["content"]["application/x-www-form-urlencoded"]
    return content["schema"]["properties"]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_method_of_every_path_becomes_one_operation(version: str) -> None:
    total, by_method = EXPECTED[version]
    counts = collections.Counter(
        method.upper() for item in converted(version)["paths"].values() for method in item
    )
    assert dict(counts) == by_method
    assert sum(counts.values()) == total
    assert len(api(version).operations) == total
    assert not api(version).skipped


@pytest.mark.parametrize("version", VERSIONS)
def test_converted_document_validates_against_the_openapi_31_schema(version: str) -> None:
    validate(converted(version))
    assert converted(version)["openapi"] == "3.1.0"


def test_apidata_is_detected_by_content_and_read_as_data_when_loaded_from_a_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "apidata.js"
    path.write_text(apidata_text("7.4-2"), encoding="utf-8")
    loaded = load_document(path, sink=DiagnosticSink())
    assert loaded.version == "3.1"
    assert loaded.document["info"]["title"] == "Proxmox VE API"
    assert len(loaded.document["paths"]) == 364


def test_older_var_pveapi_form_is_read_like_const_api_schema(tmp_path: Path) -> None:
    text = apidata_text("7.4-2").replace("const apiSchema = ", "var pveapi = ", 1)
    path = tmp_path / "old.js"
    path.write_text(text, encoding="utf-8")
    loaded = load_document(path, sink=DiagnosticSink())
    assert sum(len(item) for item in loaded.document["paths"].values()) == 540


def test_source_proxmox_refuses_a_file_that_is_not_apidata(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text('{"openapi": "3.1.0", "info": {}, "paths": {}}', encoding="utf-8")
    with pytest.raises(FatalSchemaError, match=r"not a Proxmox apidata\.js"):
        load_document(path, sink=DiagnosticSink(), source="proxmox")


def test_code_after_the_array_is_refused_never_run() -> None:
    text = 'const apiSchema = [{"path": "/version", "text": "version"}];\nalert("hi");\n'
    with pytest.raises(FatalSchemaError, match="unexpected text after the apiSchema array"):
        parse_apidata(text, name="evil.js")


def test_javascript_that_is_not_json_is_a_one_line_error() -> None:
    with pytest.raises(FatalSchemaError, match=r"evil.js:1: the apiSchema array is not JSON"):
        parse_apidata("const apiSchema = [f()];", name="evil.js")


def test_path_variables_come_from_the_path_and_are_never_repeated_in_the_body() -> None:
    repeated = 0
    for path, item in converted("9.1.2")["paths"].items():
        for op in item.values():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
            if "requestBody" in op:
                assert not names & set(body_properties(op))
            query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            assert not names & query
            repeated += bool(names)
    assert repeated >= 505  # the operations whose Proxmox parameters list the path variables


def test_start_vm_golden() -> None:
    op = operation("9.1.2", "post", "/nodes/{node}/qemu/{vmid}/status/start")
    assert op["operationId"] == "post_nodes_node_qemu_vmid_status_start"
    assert [p["name"] for p in op["parameters"]] == ["node", "vmid"]
    vmid = op["parameters"][1]["schema"]
    assert vmid["type"] == "integer"
    assert (vmid["minimum"], vmid["maximum"]) == (100, 999999999)
    timeout = body_properties(op)["timeout"]
    assert "default" not in timeout  # "max(30, vm memory in GiB)" is prose, not a value
    assert "Default: max(30, vm memory in GiB)." in timeout["description"]
    assert op["requestBody"]["required"] is False
    assert "Permissions:" in op["description"]
    assert "Protected:" in op["description"]
    envelope = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert envelope["x-loom-envelope"] == "data"
    assert envelope["properties"]["data"] == {"type": "string"}


def test_create_vm_golden_property_strings_indexed_parameters_and_comma_lists() -> None:
    op = operation("9.1.2", "post", "/nodes/{node}/qemu")
    props = body_properties(op)
    net = props["net"]
    assert net["type"] == "object"
    assert net["propertyNames"] == {"pattern": "^[0-9]+$"}
    assert net["additionalProperties"]["anyOf"] == [
        {"$ref": "#/components/schemas/QemuNet"},
        {"type": "string"},
    ]
    model = converted("9.1.2")["components"]["schemas"]["QemuNet"]
    assert model["required"] == ["model"]
    assert model["x-proxmox-property-string"] == {"default_key": "model"}
    assert "virtio" in model["properties"]["model"]["enum"]
    assert "e1000" not in model["properties"]  # an alias key, not a property
    assert model["properties"]["tag"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 4094,
        "description": "VLAN tag to apply to packets on this interface.",
    }
    assert "scsi" in props
    assert "scsi[n]" not in props
    tags = props["tags"]
    assert tags["anyOf"][0]["type"] == "array"
    media = op["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert media["encoding"]["tags"] == {"style": "form", "explode": False}
    assert props["cores"]["default"] == 1
    assert "vmid" in props  # a body field here: the path is /nodes/{node}/qemu


def test_ir_types_property_strings_and_indexed_parameters() -> None:
    built = api("9.1.2")
    models: dict[str, Model] = {m.name: m for m in built.models}
    request = models["PostNodesNodeQemuRequest"]
    fields = {f.wire: f for f in request.fields}
    net = fields["net"].type
    assert net.kind == "dict"
    assert net.name == "int"
    assert [a.name or a.kind for a in net.args[0].args] == ["QemuNet", "str"]
    assert fields["tags"].type.kind == "union"
    start = next(
        op for op in built.operations if op.operation_id == "post_nodes_node_qemu_vmid_status_start"
    )
    assert start.envelope == "data"
    assert start.response.kind == "str"
    assert start.body is not None
    assert start.body.content_type.endswith("urlencoded")


def test_hyphenated_parameters_are_aliased_in_the_ir() -> None:
    built = api("9.1.2")
    fields = {
        f.wire: f.name
        for m in built.models
        if m.name == "PostNodesNodeQemuVmidVncproxyRequest"
        for f in m.fields
    }
    assert fields["generate-password"] == "generate_password"
    assert fields["websocket"] == "websocket"


def test_numeric_prose_defaults_go_into_docstrings_in_91() -> None:
    tree = parse_apidata(apidata_text("9.1.2"), name="9.1.2")
    prose = 0
    stack: list[dict[str, Any]] = list(tree)
    while stack:
        node = stack.pop()
        stack.extend(node.get("children") or [])
        info: dict[str, Any] = node.get("info") or {}
        for method, spec in info.items():
            parameters: dict[str, Any] = spec.get("parameters") or {}
            props: dict[str, dict[str, Any]] = parameters.get("properties", {})
            for name, raw in props.items():
                kind = raw.get("type")
                if kind not in ("integer", "number") or "default" not in raw:
                    continue
                if literal_default(raw["default"], kind)[0]:
                    continue
                prose += 1
                op = operation("9.1.2", method.lower(), node["path"])
                if "requestBody" in op:
                    schema = body_properties(op)[name]
                else:
                    schema = next(p["schema"] for p in op["parameters"] if p["name"] == name)
                assert "default" not in schema
                assert f"Default: {raw['default']}." in schema["description"]
    assert prose == 22


def test_optional_is_read_as_1_string_1_or_0() -> None:
    tree = [
        {
            "path": "/t",
            "text": "t",
            "info": {
                "POST": {
                    "method": "POST",
                    "name": "t",
                    "parameters": {
                        "properties": {
                            "a": {"type": "string", "optional": 1},
                            "b": {"type": "string", "optional": "1"},
                            "c": {"type": "string", "optional": 0},
                            "d": {"type": "string"},
                        }
                    },
                    "returns": {"type": "null"},
                }
            },
        }
    ]
    doc = convert_apidata(tree, sink=DiagnosticSink())
    schema = doc["paths"]["/t"]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]["schema"]
    assert schema["required"] == ["c", "d"]


def test_literal_defaults_of_the_right_type_only() -> None:
    assert literal_default("16777216", "integer") == (True, 16777216)
    assert literal_default("yes", "boolean") == (True, True)
    assert literal_default("0", "boolean") == (True, False)
    assert literal_default("same as user", "integer") == (False, "same as user")
    assert literal_default("0; for erasure coded pools: 1", "boolean")[0] is False
    assert literal_default(1.5, "integer")[0] is False


def test_perl_patterns_become_python_patterns_or_are_dropped() -> None:
    assert perl_pattern(r"(?^:\d+(?:-\d+)?)") == r"(?:\d+(?:-\d+)?)"
    assert perl_pattern(r"(?^i:[a-z]+)") == r"(?i:[a-z]+)"
    assert perl_pattern(r"(?=a)b") is None
    assert perl_pattern(r"([") is None
