"""Bundling multi-file OpenAPI documents into one document with local ``$ref``s only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import pytest

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError, Severity
from loom.codegen.sources import LoadedDocument, load_document, load_text
from loom.codegen.sources.pointer import is_missing, parse_fragment, resolve

ROOT = Path(__file__).resolve().parents[2]
CAMUNDA = ROOT / "examples" / "camunda"
FIXTURES = ROOT / "tests" / "fixtures" / "sources"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _load(path: Path) -> tuple[LoadedDocument, DiagnosticSink]:
    sink = DiagnosticSink()
    return load_document(path, sink=sink), sink


def _refs(node: Any, found: list[str] | None = None) -> list[str]:
    found = [] if found is None else found
    if isinstance(node, dict):
        mapping = cast("dict[str, Any]", node)
        ref = mapping.get("$ref")
        if isinstance(ref, str):
            found.append(ref)
        for value in mapping.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in cast("list[Any]", node):
            _refs(item, found)
    return found


def _operations(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (method, path, str(operation.get("operationId")))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _schemas(loaded: LoadedDocument) -> dict[str, Any]:
    return cast("dict[str, Any]", loaded.document["components"]["schemas"])


def _assert_all_refs_local_and_resolving(document: dict[str, Any], *, skip: str = "") -> None:
    for ref in _refs(document):
        if ref == skip:
            continue
        assert ref.startswith("#/"), ref
        assert not is_missing(resolve(document, parse_fragment(ref[1:]))), ref


@pytest.fixture(scope="module")
def camunda_upstream() -> LoadedDocument:
    return load_document(CAMUNDA / "upstream" / "rest-api.yaml", sink=DiagnosticSink())


@pytest.fixture(scope="module")
def camunda_bundle() -> LoadedDocument:
    return load_document(CAMUNDA / "rest-api.bundle.json", sink=DiagnosticSink())


def test_same_operations_when_bundling_camunda_upstream(
    camunda_upstream: LoadedDocument, camunda_bundle: LoadedDocument
) -> None:
    ours = _operations(camunda_upstream.document)
    assert ours == _operations(camunda_bundle.document)
    assert len(ours) == 241


def test_same_schema_names_when_bundling_camunda_upstream(
    camunda_upstream: LoadedDocument, camunda_bundle: LoadedDocument
) -> None:
    assert list(_schemas(camunda_upstream)) == list(_schemas(camunda_bundle))  # order too
    assert len(_schemas(camunda_upstream)) == 742


def test_same_schema_content_when_bundling_camunda_upstream(
    camunda_upstream: LoadedDocument, camunda_bundle: LoadedDocument
) -> None:
    # Camunda's bundler sorts `required`; apart from that every schema must be identical.
    def normal(node: Any) -> Any:
        if isinstance(node, dict):
            mapping = cast("dict[str, Any]", node)
            return {
                key: sorted(value) if key == "required" else normal(value)
                for key, value in mapping.items()
            }
        if isinstance(node, list):
            return [normal(item) for item in cast("list[Any]", node)]
        return node

    theirs = _schemas(camunda_bundle)
    different = [
        name
        for name, schema in _schemas(camunda_upstream).items()
        if json.dumps(normal(schema), sort_keys=True)
        != json.dumps(normal(theirs[name]), sort_keys=True)
    ]
    assert different == []


def test_every_ref_is_local_when_bundling_camunda_upstream(
    camunda_upstream: LoadedDocument,
) -> None:
    _assert_all_refs_local_and_resolving(camunda_upstream.document)
    assert camunda_upstream.version == "3.0"
    assert camunda_upstream.source_files[0] == (CAMUNDA / "upstream" / "rest-api.yaml")
    assert len(camunda_upstream.source_files) == 49


def test_shared_responses_become_components_when_files_define_them(
    camunda_upstream: LoadedDocument,
) -> None:
    components = camunda_upstream.document["components"]
    assert "Unauthorized" in components["responses"]
    assert set(components["securitySchemes"]) == {"bearerAuth", "basicAuth"}


def test_refs_stay_refs_when_schemas_are_circular_across_files() -> None:
    loaded, sink = _load(FIXTURES / "circular" / "api.yaml")
    schemas = _schemas(loaded)
    assert list(schemas) == ["Node", "Tree"]
    assert schemas["Node"]["properties"]["tree"] == {"$ref": "#/components/schemas/Tree"}
    assert schemas["Node"]["properties"]["parent"] == {"$ref": "#/components/schemas/Node"}
    assert schemas["Tree"]["properties"]["root"] == {"$ref": "#/components/schemas/Node"}
    assert schemas["Tree"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Tree"
    }
    _assert_all_refs_local_and_resolving(loaded.document)
    assert sink.items == []


def test_second_definition_gets_a_suffix_when_two_files_define_one_name() -> None:
    loaded, sink = _load(FIXTURES / "collision" / "api.yaml")
    schemas = _schemas(loaded)
    assert set(schemas) == {"Item", "Item2", "Money"}
    assert "id" in schemas["Item"]["properties"]
    assert "sku" in schemas["Item2"]["properties"]
    right = loaded.document["paths"]["/right"]["get"]["responses"]["200"]
    assert right["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item2"}
    [diagnostic] = sink.items
    assert diagnostic.severity is Severity.INFO
    assert diagnostic.code == "name-collision"
    assert "left.yaml#/components/schemas/Item" in diagnostic.message
    assert "right.yaml#/components/schemas/Item" in diagnostic.message


def test_identical_definitions_share_one_component_when_files_repeat_a_schema() -> None:
    loaded, _ = _load(FIXTURES / "collision" / "api.yaml")
    schemas = _schemas(loaded)
    assert schemas["Item"]["properties"]["price"] == {"$ref": "#/components/schemas/Money"}
    assert schemas["Item2"]["properties"]["price"] == {"$ref": "#/components/schemas/Money"}
    assert "Money2" not in schemas


def test_fatal_names_referrer_and_file_when_referenced_file_is_missing() -> None:
    with pytest.raises(FatalSchemaError) as caught:
        _load(FIXTURES / "dangling_file" / "api.yaml")
    message = str(caught.value)
    assert (
        caught.value.pointer == "#/paths/~1pets/get/responses/200/content/application~1json/schema"
    )
    assert "schemas/missing.yaml" in message
    assert "does not exist" in message
    assert "\n" not in message


def test_fatal_names_referrer_and_pointer_when_target_is_missing() -> None:
    with pytest.raises(FatalSchemaError) as caught:
        _load(FIXTURES / "dangling_pointer" / "api.yaml")
    assert caught.value.pointer == "common.yaml#/components/schemas/Pet/properties/owner"
    assert "#/components/schemas/Owner" in caught.value.message


def test_fatal_when_entry_refers_to_a_missing_pointer_in_another_file(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text("components: {schemas: {Pet: {type: object}}}\n")
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components: {schemas: {Cat: {$ref: 'common.yaml#/components/schemas/Cat'}}}\n"
    )
    with pytest.raises(FatalSchemaError, match=r"common\.yaml has nothing at") as caught:
        _load(tmp_path / "api.yaml")
    assert caught.value.pointer == "#/components/schemas/Cat"


def test_warning_when_an_internal_ref_dangles_after_bundling_in_an_unused_component(
    tmp_path: Path,
) -> None:
    (tmp_path / "common.yaml").write_text("components: {schemas: {Pet: {type: object}}}\n")
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    Pet: {$ref: 'common.yaml#/components/schemas/Pet'}\n"
        "    Owner: {properties: {pet: {$ref: '#/components/schemas/Nope'}}}\n"
    )
    _, sink = _load(tmp_path / "api.yaml")
    [found] = [d for d in sink.sorted() if d.code == "dangling-ref"]
    assert found.pointer == "#/components/schemas/Owner/properties/pet"
    assert found.severity is Severity.WARNING


def test_path_items_are_copied_in_place_when_paths_reference_files() -> None:
    loaded, _ = _load(FIXTURES / "multi31" / "api.yaml")
    paths = loaded.document["paths"]
    assert list(paths) == ["/pets", "/pets/{petId}", "/remote"]
    assert paths["/pets"]["get"]["operationId"] == "listPets"
    assert paths["/pets/{petId}"]["get"]["operationId"] == "getPet"
    assert paths["/pets/{petId}"]["summary"] == "One pet"  # sibling of the path item $ref
    assert paths["/pets"]["get"]["parameters"] == [{"$ref": "#/components/parameters/Limit"}]
    assert paths["/pets"]["get"]["responses"]["default"] == {
        "$ref": "#/components/responses/Problem"
    }
    assert loaded.version == "3.1"


def test_kind_and_name_follow_the_target_when_refs_point_outside_components() -> None:
    loaded, _ = _load(FIXTURES / "multi31" / "api.yaml")
    components = loaded.document["components"]
    # the entry's own components first, then hoisted ones by file path and order in the file
    assert list(components["schemas"]) == ["Error", "Problem", "Cat", "Dog", "PetId", "pet"]
    assert components["parameters"]["Limit"]["name"] == "limit"
    schema = components["responses"]["Problem"]["content"]["application/problem+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Problem"}
    assert components["schemas"]["PetId"] == {"type": "string", "format": "uuid"}


def test_siblings_next_to_ref_are_kept_when_the_document_is_3_1() -> None:
    loaded, _ = _load(FIXTURES / "multi31" / "api.yaml")
    get = loaded.document["paths"]["/pets/{petId}"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/pet"
    assert schema["description"].startswith("The pet")


def test_discriminator_mapping_points_to_components_when_it_names_files() -> None:
    loaded, _ = _load(FIXTURES / "multi31" / "api.yaml")
    pet = _schemas(loaded)["pet"]
    assert pet["discriminator"]["mapping"] == {
        "cat": "#/components/schemas/Cat",
        "dog": "#/components/schemas/Dog",
    }


def test_refs_inside_examples_are_left_alone_when_bundling() -> None:
    loaded, _ = _load(FIXTURES / "multi31" / "api.yaml")
    pet = _schemas(loaded)["pet"]
    assert pet["example"] == {"$ref": "this is example data, not a reference"}
    assert pet["properties"]["born"]["examples"] == ["2020-01-01"]
    assert pet["properties"]["nickname"]["type"] == ["string", "null"]


def test_remote_ref_becomes_an_empty_schema_with_a_warning_when_bundling() -> None:
    loaded, sink = _load(FIXTURES / "multi31" / "api.yaml")
    get = loaded.document["paths"]["/remote"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {}
    [warning] = [d for d in sink.items if d.code == "remote-ref"]
    assert warning.severity is Severity.WARNING
    assert "https://example.com/schemas/remote.json" in warning.message
    assert warning.pointer.startswith("#/paths/~1remote/get/")


def test_every_ref_is_local_and_resolves_when_fixtures_are_bundled() -> None:
    for entry in ("multi31", "circular", "collision"):
        loaded, _ = _load(FIXTURES / entry / "api.yaml")
        _assert_all_refs_local_and_resolving(
            loaded.document, skip="this is example data, not a reference"
        )


def test_output_is_identical_when_bundling_twice() -> None:
    first, _ = _load(FIXTURES / "multi31" / "api.yaml")
    second, _ = _load(FIXTURES / "multi31" / "api.yaml")
    assert json.dumps(first.document) == json.dumps(second.document)
    assert first.sha256 == second.sha256


def test_sha256_changes_when_any_referenced_file_changes(tmp_path: Path) -> None:
    copy = tmp_path / "multi31"
    shutil.copytree(FIXTURES / "multi31", copy)
    before, _ = _load(copy / "api.yaml")
    assert [p.relative_to(copy).as_posix() for p in before.source_files] == [
        "api.yaml",
        "paths/pets.yaml",
        "common.yaml",
        "schemas/pet.yaml",
        "schemas/ids.yaml",
        "schemas/animals.yaml",
    ]
    animals = copy / "schemas" / "animals.yaml"
    animals.write_text(animals.read_text().replace("lives", "lifes"))
    after, _ = _load(copy / "api.yaml")
    assert after.sha256 != before.sha256


def test_sha256_is_of_the_entry_bytes_when_there_is_one_file(
    camunda_bundle: LoadedDocument,
) -> None:
    import hashlib

    data = (CAMUNDA / "rest-api.bundle.json").read_bytes()
    assert camunda_bundle.sha256 == hashlib.sha256(data).hexdigest()
    assert camunda_bundle.source_files == (CAMUNDA / "rest-api.bundle.json",)


def test_path_item_that_includes_itself_is_fatal_when_bundling(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").write_text("/a:\n  $ref: 'loop.yaml#/~1a'\n")
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a: {$ref: 'loop.yaml#/~1a'}\n"
    )
    with pytest.raises(FatalSchemaError, match="refers to itself"):
        _load(tmp_path / "api.yaml")


def test_file_refs_resolve_from_base_dir_when_loading_text() -> None:
    text = (FIXTURES / "circular" / "api.yaml").read_text()
    loaded = load_text(text, name="api.yaml", sink=DiagnosticSink(), base_dir=FIXTURES / "circular")
    assert list(_schemas(loaded)) == ["Node", "Tree"]


def test_file_refs_are_fatal_when_text_has_no_base_dir() -> None:
    text = (FIXTURES / "circular" / "api.yaml").read_text()
    with pytest.raises(FatalSchemaError, match="without a folder"):
        load_text(text, name="api.yaml", sink=DiagnosticSink())


def test_escaped_pointer_tokens_resolve_when_refs_use_tilde_and_percent(tmp_path: Path) -> None:
    (tmp_path / "defs.json").write_text(
        json.dumps({"a/b": {"type": "string"}, "m~n": {"type": "integer"}, "sp ace": {}})
    )
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    Holder:\n      properties:\n"
        "        slash: {$ref: 'defs.json#/a~1b'}\n"
        "        tilde: {$ref: 'defs.json#/m~0n'}\n"
        "        space: {$ref: 'defs.json#/sp%20ace'}\n"
    )
    loaded, _ = _load(tmp_path / "api.yaml")
    schemas = _schemas(loaded)
    assert schemas["Holder"]["properties"] == {
        "slash": {"$ref": "#/components/schemas/a_b"},
        "tilde": {"$ref": "#/components/schemas/m_n"},
        "space": {"$ref": "#/components/schemas/sp_ace"},
    }
    assert schemas["a_b"] == {"type": "string"}
    assert schemas["m_n"] == {"type": "integer"}


def test_unreferenced_components_of_read_files_are_kept_when_bundling(tmp_path: Path) -> None:
    (tmp_path / "common.yaml").write_text(
        "components:\n  schemas:\n    Used: {type: string}\n    Unused: {type: integer}\n"
    )
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    Root: {$ref: 'common.yaml#/components/schemas/Used'}\n"
    )
    loaded, _ = _load(tmp_path / "api.yaml")
    assert list(_schemas(loaded)) == ["Root", "Used", "Unused"]


def test_titled_union_variants_get_components_when_bundling_several_files(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text(
        "components:\n  schemas:\n"
        "    JobKey: {type: string}\n"
        "    JobKeyFilterProperty:\n      oneOf:\n"
        "        - {title: Exact match, allOf: [{$ref: '#/components/schemas/JobKey'}]}\n"
        "        - {title: Advanced filter, type: object, properties: {$eq: {type: string}}}\n"
    )
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    Filter: {$ref: 'keys.yaml#/components/schemas/JobKeyFilterProperty'}\n"
    )
    loaded, _ = _load(tmp_path / "api.yaml")
    schemas = _schemas(loaded)
    assert schemas["JobKeyFilterProperty"]["oneOf"] == [
        {"$ref": "#/components/schemas/JobKeyExactMatch"},
        {"$ref": "#/components/schemas/JobKeyFilterPropertyAdvancedfilter"},
    ]
    assert schemas["JobKeyExactMatch"]["allOf"] == [{"$ref": "#/components/schemas/JobKey"}]


def test_single_file_document_is_returned_unchanged_when_it_has_no_file_refs() -> None:
    text = (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
        "    F:\n      oneOf:\n        - {title: Exact match, properties: {a: {type: string}}}\n"
    )
    loaded = load_text(text, sink=DiagnosticSink())
    assert loaded.document["components"]["schemas"]["F"]["oneOf"][0]["title"] == "Exact match"
    assert loaded.source_files == (Path("<string>"),)


def test_declared_name_is_kept_when_entry_components_reference_files(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "Pet.yaml").write_text(
        "type: object\nproperties:\n  owner: {$ref: 'Owner.yaml'}\n"
    )
    (tmp_path / "schemas" / "Owner.yaml").write_text("type: object\n")
    (tmp_path / "common.yaml").write_text("components: {schemas: {Problem: {type: object}}}\n")
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets:\n    get:\n"
        "      responses:\n        '200':\n          description: ok\n          content:\n"
        "            application/json: {schema: {$ref: 'schemas/Pet.yaml'}}\n"
        "components:\n  schemas:\n"
        "    Pet: {$ref: 'schemas/Pet.yaml'}\n"
        "    Animal: {$ref: 'schemas/Pet.yaml'}\n"
        "    Problem: {$ref: 'common.yaml#/components/schemas/Problem'}\n"
    )
    loaded, sink = _load(tmp_path / "api.yaml")
    schemas = _schemas(loaded)
    assert list(schemas) == ["Pet", "Animal", "Problem", "Owner"]
    assert schemas["Problem"] == {"type": "object"}  # same name in its file: no Problem2
    assert schemas["Pet"]["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert schemas["Animal"] == {"$ref": "#/components/schemas/Pet"}
    response = loaded.document["paths"]["/pets"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert sink.items == []


def test_callback_refs_are_bundled_when_they_point_to_files(tmp_path: Path) -> None:
    (tmp_path / "callbacks.yaml").write_text(
        "components:\n  callbacks:\n    Done:\n      '{$request.body#/url}':\n        post:\n"
        "          requestBody:\n            content:\n              application/json:\n"
        "                schema: {$ref: '#/components/schemas/Event'}\n"
        "          responses: {'200': {description: ok}}\n"
        "  schemas:\n    Event: {type: object}\n"
    )
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /jobs:\n    post:\n"
        "      callbacks:\n        done: {$ref: 'callbacks.yaml#/components/callbacks/Done'}\n"
        "      responses: {'202': {description: accepted}}\n"
    )
    loaded, _ = _load(tmp_path / "api.yaml")
    post = loaded.document["paths"]["/jobs"]["post"]
    assert post["callbacks"]["done"] == {"$ref": "#/components/callbacks/Done"}
    callback = loaded.document["components"]["callbacks"]["Done"]["{$request.body#/url}"]
    schema = callback["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Event"}
    _assert_all_refs_local_and_resolving(loaded.document)


@pytest.mark.slow
def test_same_sdk_when_generated_from_camunda_upstream_or_bundle(tmp_path: Path) -> None:
    import re
    import subprocess
    import sys

    digest = re.compile(r"\b[0-9a-f]{64}\b")  # the schema's sha256 and hashes of files with it
    trees: list[dict[str, str]] = []
    for name, schema in (
        ("upstream", CAMUNDA / "upstream" / "rest-api.yaml"),
        ("bundle", CAMUNDA / "rest-api.bundle.json"),
    ):
        out = tmp_path / name
        result = subprocess.run(
            [sys.executable, "-m", "loom", "generate", str(schema), "-o", str(out), "-q"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        trees.append(
            {
                p.relative_to(out).as_posix(): digest.sub("<sha256>", p.read_text())
                for p in sorted(out.rglob("*"))
                if p.is_file()
            }
        )
    upstream, bundle = trees
    assert sorted(upstream) == sorted(bundle)
    different = [path for path in upstream if upstream[path] != bundle[path]]
    assert different == []
    assert sum(path.endswith(".py") for path in bundle) > 50  # a real SDK, not an empty tree
