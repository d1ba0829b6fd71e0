"""Walk a Swagger 2.0 document and build its OpenAPI 3.0.3 form (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from loom.codegen.diagnostics import DiagnosticSink, FatalSchemaError, Severity
from loom.codegen.sources.parse import decode_text, parse_text
from loom.codegen.sources.pointer import is_missing, is_remote, parse_fragment, resolve, split_ref
from loom.codegen.sources.swagger2.body import BodyParameter, request_body
from loom.codegen.sources.swagger2.parameters import plain_parameter
from loom.codegen.sources.swagger2.pointers import PointerMap, child
from loom.codegen.sources.swagger2.responses import convert_response
from loom.codegen.sources.swagger2.schemas import convert_schema
from loom.codegen.sources.swagger2.security import (
    convert_requirements,
    convert_security_definitions,
    server_urls,
)

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_COPIED = ("tags", "summary", "description", "externalDocs", "operationId", "deprecated")


def _d(value: object) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _media_types(value: object, fallback: list[str]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [m for m in cast("list[Any]", value) if isinstance(m, str)]
    return fallback


def _tokens(fragment: str) -> tuple[str, ...]:
    try:
        return parse_fragment(fragment)
    except ValueError:
        return ()


def _extensions(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k.startswith("x-")}


@dataclass
class SwaggerConverter:
    """One conversion; ``run`` returns a ``Result``."""

    root: dict[str, Any]
    sink: DiagnosticSink
    pointers: PointerMap = field(default_factory=PointerMap)
    refs: list[tuple[dict[str, Any], str]] = field(default_factory=list[tuple[dict[str, Any], str]])
    base_dir: Path | None = None
    schemes: dict[str, Any] = field(default_factory=dict[str, Any])
    files: dict[Path, Any] = field(default_factory=dict[Path, Any])

    @dataclass
    class Result:
        """The converted document, where its parts came from, and its ``$ref`` nodes."""

        document: dict[str, Any]
        pointers: PointerMap
        refs: list[tuple[dict[str, Any], str]]

    def _ref(self, node: dict[str, Any], pointer: str) -> None:
        self.refs.append((node, pointer))

    def run(self) -> Result:
        """Convert the whole document."""
        root = self.root
        doc: dict[str, Any] = {"openapi": "3.0.3"}
        doc["info"] = root.get("info", {"title": "API", "version": "0"})
        doc["servers"] = [{"url": url} for url in self._servers()]
        self.pointers.add("#/servers", "#/host" if "host" in root else "#", inverse=False)
        for key in ("tags", "externalDocs"):
            if key in root:
                doc[key] = root[key]
        doc.update(_extensions(root))
        self.schemes = convert_security_definitions(root.get("securityDefinitions"), self.sink)
        components = self._components()
        doc["paths"] = self._paths()
        if components:
            doc["components"] = components
        if "security" in root:
            security = convert_requirements(root["security"], "#/security", self.schemes, self.sink)
            if security is not None:
                doc["security"] = security
        return SwaggerConverter.Result(doc, self.pointers, self.refs)

    def _servers(self) -> list[str]:
        return server_urls(
            self.root.get("host"), self.root.get("basePath"), self.root.get("schemes")
        )

    # -- components ------------------------------------------------------------------------

    def _components(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        definitions = _d(self.root.get("definitions"))
        if definitions:
            out["schemas"] = {
                name: convert_schema(schema, child("#/definitions", name), self._ref)
                for name, schema in definitions.items()
            }
        for name in definitions:  # one by one: components hoisted from other files stay apart
            self.pointers.add(child("#/components/schemas", name), child("#/definitions", name))
        parameters: dict[str, Any] = {}
        for name, raw in _d(self.root.get("parameters")).items():
            at, target = child("#/parameters", name), child("#/components/parameters", name)
            param = self._checked_parameter(raw, at)
            if param is None or param["in"] in ("body", "formData"):
                continue  # body and formData parameters are inlined where they are used
            converted = plain_parameter(param, at, self._ref, self.sink)
            if converted is not None:
                parameters[name] = converted
                self.pointers.add(target, at)
                self.pointers.add(child(target, "schema"), at, inverse=False)
        if parameters:
            out["parameters"] = parameters
        responses: dict[str, Any] = {}
        produces = _media_types(self.root.get("produces"), [])
        for name, raw in _d(self.root.get("responses")).items():
            at, target = child("#/responses", name), child("#/components/responses", name)
            self.pointers.add(target, at)
            responses[name] = convert_response(
                _d(raw),
                at,
                target,
                produces,
                refs=self._ref,
                sink=self.sink,
                pointers=self.pointers,
            )
        if responses:
            out["responses"] = responses
        if self.schemes:
            out["securitySchemes"] = self.schemes
        self.pointers.add("#/components/securitySchemes", "#/securityDefinitions")
        return out

    def _checked_parameter(self, raw: object, pointer: str) -> dict[str, Any] | None:
        param = _d(raw)
        location = param.get("in")
        if not isinstance(param.get("name"), str) or location not in (
            "query",
            "header",
            "path",
            "formData",
            "body",
        ):
            self.sink.add(
                pointer,
                "parameter without a valid `name` and `in` (query, header, path, formData, "
                "body); skipped",
                code="invalid-parameter",
            )
            return None
        return param

    # -- paths -------------------------------------------------------------------------------

    def _paths(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, raw in _d(self.root.get("paths")).items():
            at = child("#/paths", path)
            if path.startswith("x-"):
                out[path] = raw
                continue
            item = _d(raw)
            if "$ref" in item:
                self.sink.add(
                    child(at, "$ref"),
                    "path item references are not supported in Swagger 2.0 input; the path is "
                    "skipped (inline it)",
                    code="unsupported-ref",
                    severity=Severity.ERROR,
                )
                continue
            plain, bodies = self._parameter_list(item.get("parameters"), at, at)
            converted: dict[str, Any] = {}
            if plain:
                converted["parameters"] = plain
            for method in _METHODS:
                if method in item:
                    op_at = child(at, method)
                    converted[method] = self._operation(_d(item[method]), op_at, bodies)
            converted.update(_extensions(item))
            out[path] = converted
        return out

    def _parameter_list(
        self, raw: object, at: str, target: str
    ) -> tuple[list[dict[str, Any]], list[BodyParameter]]:
        """Plain parameters (converted, renumbered) and the body/formData ones of a list."""
        plain: list[dict[str, Any]] = []
        bodies: list[BodyParameter] = []
        items = cast("list[Any]", raw) if isinstance(raw, list) else []
        for index, value in enumerate(items):
            pointer = child(at, "parameters", index)
            resolved = self._resolve_parameter(value, pointer)
            if resolved is None:
                continue
            param, param_at, ref = resolved
            if param["in"] in ("body", "formData"):
                bodies.append(BodyParameter(param, param_at))
                continue
            new_at = child(target, "parameters", len(plain))
            self.pointers.add(new_at, pointer)
            if ref is not None:
                plain.append({"$ref": ref})
                continue
            self.pointers.add(child(new_at, "schema"), pointer, inverse=False)
            converted = plain_parameter(param, pointer, self._ref, self.sink)
            if converted is not None:
                plain.append(converted)
        return plain, bodies

    def _resolve_parameter(
        self, value: object, pointer: str
    ) -> tuple[dict[str, Any], str, str | None] | None:
        """The parameter, where it is written, and its new ``$ref`` when it stays a reference."""
        node = _d(value)
        ref = node.get("$ref")
        if not isinstance(ref, str):
            param = self._checked_parameter(node, pointer)
            return None if param is None else (param, pointer, None)
        file_part, fragment = split_ref(ref)
        tokens = _tokens(fragment)
        if file_part and not is_remote(file_part) and self.base_dir is not None:
            target, target_at = self._external(file_part, tokens, ref, pointer), ref
        elif not file_part and len(tokens) == 2 and tokens[0] == "parameters":
            target, target_at = resolve(self.root, tokens), child("#/parameters", tokens[1])
        else:
            self.sink.add(
                pointer,
                f"parameter $ref {ref!r} is neither to #/parameters/<name> nor to a local file; "
                "the parameter is skipped",
                code="unsupported-ref",
                severity=Severity.ERROR,
            )
            return None
        if is_missing(target):
            self.sink.add(
                pointer,
                f"$ref {ref!r} does not resolve; the parameter is skipped",
                code="dangling-ref",
                severity=Severity.ERROR,
            )
            return None
        param = self._checked_parameter(target, target_at)
        if param is None:
            return None
        if file_part or param["in"] in ("body", "formData"):
            return param, target_at, None  # inlined where it is used
        return param, target_at, child("#/components/parameters", tokens[1])

    def _external(self, file_part: str, tokens: tuple[str, ...], ref: str, pointer: str) -> Any:
        """A parameter in another file (read once; its own ``$ref``s are not followed)."""
        assert self.base_dir is not None
        path = (self.base_dir / unquote(file_part)).resolve()
        if path not in self.files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise FatalSchemaError(
                    f"$ref {ref!r}: cannot read {file_part}: {exc.strerror}", pointer=pointer
                ) from None
            self.files[path] = parse_text(decode_text(data, name=file_part), name=file_part)
        return resolve(self.files[path], tokens)

    # -- operations --------------------------------------------------------------------------

    def _operation(
        self, op: dict[str, Any], at: str, path_bodies: list[BodyParameter]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {k: op[k] for k in _COPIED if k in op}
        plain, bodies = self._parameter_list(op.get("parameters"), at, at)
        if plain:
            out["parameters"] = plain
        consumes = _media_types(op.get("consumes"), _media_types(self.root.get("consumes"), []))
        body = request_body(
            [*path_bodies, *bodies],
            consumes,
            child(at, "requestBody"),
            refs=self._ref,
            sink=self.sink,
            pointers=self.pointers,
        )
        if body is not None:
            out["requestBody"] = body
        out["responses"] = self._responses(op, at)
        if "security" in op:
            security = convert_requirements(
                op["security"], child(at, "security"), self.schemes, self.sink
            )
            if security is not None:
                out["security"] = security
        if "schemes" in op:
            self._operation_servers(op, at, out)
        out.update(_extensions(op))
        return out

    def _responses(self, op: dict[str, Any], at: str) -> dict[str, Any]:
        produces = _media_types(op.get("produces"), _media_types(self.root.get("produces"), []))
        out: dict[str, Any] = {}
        for code, raw in _d(op.get("responses")).items():
            code_at = child(at, "responses", code)
            if code.startswith("x-"):
                out[code] = raw
                continue
            node = _d(raw)
            if isinstance(node.get("$ref"), str):
                ref_node = {"$ref": node["$ref"]}
                self._ref(ref_node, code_at)
                out[code] = ref_node
                continue
            out[code] = convert_response(
                node,
                code_at,
                code_at,
                produces,
                refs=self._ref,
                sink=self.sink,
                pointers=self.pointers,
            )
        if not out:
            self.sink.add(
                child(at, "responses"),
                "operation has no responses",
                code="no-responses",
                severity=Severity.INFO,
            )
            out["default"] = {"description": ""}
        return out

    def _operation_servers(self, op: dict[str, Any], at: str, out: dict[str, Any]) -> None:
        """Operation ``schemes`` become operation ``servers`` (OpenAPI 3.0.3 §4.7.10)."""
        own = server_urls(self.root.get("host"), self.root.get("basePath"), op["schemes"])
        if own == self._servers():
            return
        out["servers"] = [{"url": url} for url in own]
        first = self._servers()[0]
        if first not in own:
            self.sink.add(
                child(at, "schemes"),
                f"this operation is served from {', '.join(own)}, not from the document's "
                f"{first}; the SDK sends every operation to the client's base URL, so give this "
                "one a client with that base URL",
                code="operation-servers",
                severity=Severity.WARNING,
            )
