"""Loading OpenAPI documents: JSON/YAML parsing, version and shape checks, hostile input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError
from loom.codegen.sources import load_document, load_text
from loom.codegen.sources.parse import MAX_DEPTH, parse_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "sources"
MINIMAL_YAML = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


def _fatal(text: str, *, name: str = "api.yaml") -> str:
    with pytest.raises(FatalSchemaError) as caught:
        load_text(text, name=name, sink=DiagnosticSink())
    message = str(caught.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def test_yaml_is_detected_by_content_when_the_file_is_named_json(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(MINIMAL_YAML)
    loaded = load_document(path, sink=DiagnosticSink())
    assert loaded.document["openapi"] == "3.0.3"
    assert loaded.version == "3.0"


def test_json_is_detected_by_content_when_the_file_is_named_yaml(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(json.dumps({"openapi": "3.1.0", "info": {}, "paths": {}}))
    loaded = load_document(path, sink=DiagnosticSink())
    assert loaded.version == "3.1"
    assert loaded.entry == path.resolve()


def test_yaml_dates_stay_strings_when_used_as_examples_and_defaults() -> None:
    loaded = load_text(
        MINIMAL_YAML + "components:\n  schemas:\n    D: {type: string, format: date, "
        "default: 2020-01-01, example: 2020-01-01T10:00:00Z}\n",
        sink=DiagnosticSink(),
    )
    schema = loaded.document["components"]["schemas"]["D"]
    assert schema["default"] == "2020-01-01"
    assert schema["example"] == "2020-01-01T10:00:00Z"


def test_mapping_keys_stay_as_written_when_yaml_keys_look_like_numbers() -> None:
    loaded = load_text(
        MINIMAL_YAML.replace(
            "paths: {}",
            "paths:\n  /a:\n    get:\n      responses:\n"
            "        200: {description: ok}\n        4XX: {description: bad}\n"
            "        1.0: {description: odd}\n        true: {description: odd}",
        ),
        sink=DiagnosticSink(),
    )
    responses = loaded.document["paths"]["/a"]["get"]["responses"]
    assert list(responses) == ["200", "4XX", "1.0", "true"]


def test_merge_keys_work_when_yaml_uses_anchors() -> None:
    loaded = load_text(
        MINIMAL_YAML + "x-base: &base {type: string}\ncomponents:\n  schemas:\n"
        "    A: {<<: *base, format: uuid}\n",
        sink=DiagnosticSink(),
    )
    assert loaded.document["components"]["schemas"]["A"] == {"type": "string", "format": "uuid"}


def test_line_and_column_are_reported_when_yaml_is_unparseable() -> None:
    with pytest.raises(FatalSchemaError) as caught:
        load_document(FIXTURES / "broken.yaml", sink=DiagnosticSink())
    message = str(caught.value)
    assert message.startswith(f"{FIXTURES / 'broken.yaml'}:8:1: cannot parse YAML:")
    assert "flow sequence" in message
    assert "\n" not in message


def test_line_and_column_are_reported_when_json_is_unparseable(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text('{\n  "openapi": "3.0.3",\n  "paths": {,}\n}\n')
    with pytest.raises(FatalSchemaError) as caught:
        load_document(path, sink=DiagnosticSink())
    assert str(caught.value) == f"{path}:3:13: cannot parse JSON: Expecting property name " + (
        "enclosed in double quotes"
    )


def test_swagger_2_is_converted_to_openapi_3_when_loaded() -> None:
    loaded = load_document(FIXTURES / "swagger2.json", sink=DiagnosticSink())
    assert loaded.version == "3.0"
    assert loaded.converted_from == "swagger-2.0"
    assert loaded.document["openapi"] == "3.0.3"
    assert loaded.document["paths"] == {}


def test_swagger_1_2_is_refused_with_advice_when_loaded() -> None:
    with pytest.raises(FatalSchemaError) as caught:
        load_document(FIXTURES / "swagger12.json", sink=DiagnosticSink())
    assert "Swagger 1.2 is not supported; Swagger 1.x describes an API" in str(caught.value)


def test_missing_paths_is_fatal_when_the_document_is_3_0() -> None:
    with pytest.raises(FatalSchemaError) as caught:
        load_document(FIXTURES / "missing_paths.yaml", sink=DiagnosticSink())
    assert "has no `paths`" in str(caught.value)
    assert "add `paths: {}`" in str(caught.value)


def test_missing_paths_is_a_warning_when_a_3_1_document_has_components() -> None:
    sink = DiagnosticSink()
    loaded = load_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents: {schemas: {A: {}}}\n",
        sink=sink,
    )
    assert loaded.version == "3.1"
    [diagnostic] = sink.items
    assert diagnostic.pointer == "#/paths"
    assert diagnostic.code == "no-paths"


def test_missing_paths_is_fatal_when_a_3_1_document_has_nothing_else() -> None:
    assert "has no `paths`" in _fatal("openapi: 3.1.0\ninfo: {title: t, version: '1'}\n")


def test_paths_must_be_a_mapping_when_present() -> None:
    assert "`paths` is a list" in _fatal("openapi: 3.0.3\ninfo: {}\npaths: [a, b]\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "the document is an array, not an object"),
        ("just text\n", "the document is a str value, not an object"),
        ("info: {title: t}\npaths: {}\n", "there is no `openapi` field"),
        ("openapi: 3.2.0\npaths: {}\n", "OpenAPI 3.2.0 is not supported"),
        ("openapi: '2.0'\npaths: {}\n", "OpenAPI 2.0 is not supported"),
        ("openapi: [3]\npaths: {}\n", "OpenAPI [3] is not supported"),
    ],
)
def test_clear_fatal_error_when_the_document_is_not_openapi_3(text: str, expected: str) -> None:
    assert expected in _fatal(text)


def test_numeric_version_is_accepted_with_a_warning_when_yaml_reads_it_as_float() -> None:
    sink = DiagnosticSink()
    loaded = load_text("openapi: 3.0\ninfo: {}\npaths: {}\n", sink=sink)
    assert loaded.version == "3.0"
    assert [d.code for d in sink.items] == ["openapi-version"]


def test_unsafe_yaml_tags_are_refused_when_loading() -> None:
    message = _fatal(MINIMAL_YAML + "x-evil: !!python/object/apply:os.system ['echo hi']\n")
    assert "has no JSON equivalent" in message
    assert message.startswith("api.yaml:4:")


def test_non_utf8_input_is_fatal_with_the_byte_offset_when_loading(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_bytes(MINIMAL_YAML.encode() + b"x-name: caf\xe9\n")
    with pytest.raises(FatalSchemaError, match=r"byte \d+ is not valid UTF-8"):
        load_document(path, sink=DiagnosticSink())


def test_missing_entry_file_is_fatal_when_loading(tmp_path: Path) -> None:
    with pytest.raises(FatalSchemaError, match="no such file"):
        load_document(tmp_path / "nope.yaml", sink=DiagnosticSink())
    with pytest.raises(FatalSchemaError, match="is a folder"):
        load_document(tmp_path, sink=DiagnosticSink())


@pytest.mark.parametrize("flavour", ["yaml-flow", "yaml-block", "json"])
def test_deep_nesting_is_fatal_without_recursion_error_when_loading(flavour: str) -> None:
    depth = 100_000
    if flavour == "json":
        text = '{"openapi": "3.0.3", "paths": {}, "x": ' + "[" * depth + "]" * depth + "}"
    elif flavour == "yaml-flow":
        text = MINIMAL_YAML + "x: " + "[" * depth + "]" * depth + "\n"
    else:
        text = MINIMAL_YAML + "x:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(400))
    message = _fatal(text, name="deep.json" if flavour == "json" else "deep.yaml")
    assert "nest" in message
    assert str(MAX_DEPTH) in message


def test_moderately_deep_json_is_fatal_with_a_pointer_when_nesting_exceeds_the_limit() -> None:
    depth = MAX_DEPTH + 50  # below Python's recursion limit, above loom's
    text = '{"openapi": "3.0.3", "paths": {}, "components": {"schemas": {"A": ' + (
        '{"items": ' * depth + "{}" + "}" * depth + "}}}"
    )
    with pytest.raises(FatalSchemaError, match="nests deeper than") as caught:
        load_text(text, sink=DiagnosticSink())
    assert (caught.value.pointer or "").startswith("#/components/schemas/A/items/items")


def test_yaml_alias_bomb_is_refused_quickly_when_loading() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        aliases = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    text = MINIMAL_YAML + "x-bomb:\n" + "".join(f"  {line}\n" for line in lines)
    started = time.perf_counter()
    message = _fatal(text)
    assert "YAML aliases" in message
    assert time.perf_counter() - started < 5  # a generous sanity bound, not a benchmark


def test_recursive_yaml_anchor_is_refused_when_loading() -> None:
    assert "contains an alias to itself" in _fatal(MINIMAL_YAML + "x: &a [1, *a]\n")


def test_parse_text_returns_plain_data_when_yaml_is_valid() -> None:
    assert parse_text("a: [1, 2.5, true, null, 'x']\n", name="t.yaml") == {
        "a": [1, 2.5, True, None, "x"]
    }


def test_bundle_json_is_returned_as_parsed_when_it_has_no_file_refs() -> None:
    path = ROOT / "examples" / "camunda" / "rest-api.bundle.json"
    loaded = load_document(path, sink=DiagnosticSink())
    assert loaded.document == json.loads(path.read_bytes())
    assert len(loaded.document["components"]["schemas"]) == 742


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("broken.yaml", "broken.yaml:8:1: cannot parse YAML:"),
        ("swagger12.json", "Swagger 1.2 is not supported; Swagger 1.x describes an API"),
        ("missing_paths.yaml", "the document has no `paths`"),
        ("dangling_file/api.yaml", "schemas/missing.yaml, which does not exist"),
        ("dangling_pointer/api.yaml", "common.yaml#/components/schemas/Pet/properties/owner"),
    ],
)
def test_cli_prints_one_error_line_without_traceback_when_the_schema_is_bad(
    tmp_path: Path, schema: str, expected: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loom", "generate", str(FIXTURES / schema), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    [line] = [ln for ln in output.splitlines() if expected in ln]
    assert "error" in line


def test_anchor_fragment_is_fatal_with_advice_when_a_ref_uses_one() -> None:
    text = MINIMAL_YAML + "components:\n  schemas:\n    A: {properties: {b: {$ref: '#Pet'}}}\n"
    with pytest.raises(FatalSchemaError, match="not a JSON pointer") as caught:
        load_text(text, sink=DiagnosticSink())
    assert caught.value.pointer == "#/components/schemas/A/properties/b"
    assert "#/components/schemas/Name" in caught.value.message
