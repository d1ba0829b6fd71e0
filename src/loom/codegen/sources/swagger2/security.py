"""Swagger 2.0 ``securityDefinitions``, ``security`` and ``host``/``basePath``/``schemes``.

Security schemes (Swagger 2.0 §Security Scheme Object → OpenAPI 3.0.3 §4.7.27):

=================================== ===================================================
Swagger 2.0                          OpenAPI 3.0
=================================== ===================================================
``type: basic``                      ``type: http, scheme: basic``
``type: apiKey, name, in``           the same (``in``: header or query)
``oauth2, flow: implicit``           ``flows.implicit`` (``authorizationUrl``, ``scopes``)
``oauth2, flow: password``           ``flows.password`` (``tokenUrl``, ``scopes``)
``oauth2, flow: application``        ``flows.clientCredentials`` (``tokenUrl``, ``scopes``)
``oauth2, flow: accessCode``         ``flows.authorizationCode`` (both URLs, ``scopes``)
=================================== ===================================================

A scheme that cannot be converted is left out with a diagnostic, and so is every security
requirement alternative that names it (or names a scheme that is not defined): an alternative
can only be met when all of its schemes can be, so keeping it would leave a dangling name.
"""

from __future__ import annotations

from typing import Any, cast

from loom.codegen.diagnostics import DiagnosticSink, Severity
from loom.codegen.sources.swagger2.pointers import child

_FLOWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "implicit": ("implicit", ("authorizationUrl",)),
    "password": ("password", ("tokenUrl",)),
    "application": ("clientCredentials", ("tokenUrl",)),
    "accessCode": ("authorizationCode", ("authorizationUrl", "tokenUrl")),
}


def _extensions(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k.startswith("x-")}


def convert_security_definitions(value: object, sink: DiagnosticSink) -> dict[str, Any]:
    """``securityDefinitions`` → ``components/securitySchemes`` (unconvertible ones left out)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        sink.add("#/securityDefinitions", "is not a mapping; ignored", code="invalid-security")
        return {}
    out: dict[str, Any] = {}
    for name, raw in cast("dict[str, Any]", value).items():
        pointer = child("#/securityDefinitions", name)
        scheme = _scheme(raw, pointer, sink)
        if scheme is not None:
            out[name] = scheme
    return out


def _scheme(raw: object, pointer: str, sink: DiagnosticSink) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        sink.add(pointer, "security scheme is not an object; left out", code="invalid-security")
        return None
    node = cast("dict[str, Any]", raw)
    kind = node.get("type")
    out: dict[str, Any] = {}
    if kind == "basic":
        out = {"type": "http", "scheme": "basic"}
    elif kind == "apiKey":
        name, where = node.get("name"), node.get("in")
        if not isinstance(name, str) or not name or where not in ("header", "query"):
            sink.add(
                pointer,
                "an apiKey scheme needs `name` and `in` (header or query); left out",
                code="invalid-security",
                severity=Severity.ERROR,
            )
            return None
        out = {"type": "apiKey", "name": name, "in": where}
    elif kind == "oauth2":
        flows = _flow(node, pointer, sink)
        if flows is None:
            return None
        out = {"type": "oauth2", "flows": flows}
    else:
        sink.add(
            pointer,
            f"security scheme type {kind!r} is not one of basic, apiKey, oauth2; left out",
            code="invalid-security",
            severity=Severity.ERROR,
        )
        return None
    if isinstance(node.get("description"), str):
        out["description"] = node["description"]
    return {**out, **_extensions(node)}


def _flow(node: dict[str, Any], pointer: str, sink: DiagnosticSink) -> dict[str, Any] | None:
    flow = node.get("flow")
    known = _FLOWS.get(flow) if isinstance(flow, str) else None
    if known is None:
        sink.add(
            child(pointer, "flow"),
            f"OAuth2 flow {flow!r} is not one of implicit, password, application, accessCode; "
            "the scheme is left out",
            code="invalid-security",
            severity=Severity.ERROR,
        )
        return None
    target, urls = known
    scopes = node.get("scopes")
    converted: dict[str, Any] = {}
    for url in urls:
        if not isinstance(node.get(url), str) or not node[url]:
            sink.add(
                pointer,
                f"the OAuth2 {flow} flow needs `{url}`; the scheme is left out",
                code="invalid-security",
                severity=Severity.ERROR,
            )
            return None
        converted[url] = node[url]
    converted["scopes"] = dict(cast("dict[str, Any]", scopes)) if isinstance(scopes, dict) else {}
    return {target: converted}


def convert_requirements(
    value: object, pointer: str, schemes: dict[str, Any], sink: DiagnosticSink
) -> list[dict[str, Any]] | None:
    """A ``security`` list, without the alternatives that name a scheme that is not there.

    Returns:
        The list, or ``None`` when every alternative was left out (the key is then dropped, so
        that an operation does not turn into one that needs no authentication).
    """
    if not isinstance(value, list):
        sink.add(pointer, "`security` is not a list; ignored", code="invalid-security")
        return None
    items = cast("list[Any]", value)
    kept: list[dict[str, Any]] = []
    for index, alternative in enumerate(items):
        at = child(pointer, index)
        if not isinstance(alternative, dict):
            sink.add(at, "security requirement is not an object; left out", code="invalid-security")
            continue
        requirement = cast("dict[str, Any]", alternative)
        missing = [name for name in requirement if name not in schemes]
        for name in missing:
            sink.add(
                child(at, name),
                f"security scheme {name!r} is not defined or could not be converted; this "
                "requirement is left out (fix securityDefinitions)",
                code="unknown-security-scheme",
                severity=Severity.ERROR,
            )
        if not missing:
            kept.append(
                {
                    k: list(cast("list[Any]", v)) if isinstance(v, list) else []
                    for k, v in requirement.items()
                }
            )
    if items and not kept:
        return None
    return kept


def server_urls(host: object, base_path: object, schemes: object) -> list[str]:
    """The server URLs for ``host``, ``basePath`` and ``schemes`` (Swagger 2.0 §Swagger Object).

    Without ``schemes`` the specification says "the scheme used to access the API definition";
    a file has none, so ``https`` is assumed. Without ``host`` the URL is the relative
    ``basePath``, which loom resolves as OpenAPI 3 does for a relative server URL.
    """
    path = base_path if isinstance(base_path, str) and base_path.startswith("/") else "/"
    path = "" if path == "/" else path.rstrip("/")
    if not isinstance(host, str) or not host:
        return [path or "/"]
    listed = (
        [s for s in cast("list[Any]", schemes) if isinstance(s, str)]
        if isinstance(schemes, list)
        else []
    )
    return [f"{scheme.lower()}://{host}{path}" for scheme in (listed or ["https"])]
