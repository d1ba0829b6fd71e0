"""Where a node sits in an OpenAPI document decides what a ``$ref`` in it refers to.

The bundler walks the document with a *kind* per node (schema, parameter, response, …). The kind
of a child follows from the kind of its parent and the key (OpenAPI 3.1 §4.8); everything that is
not OpenAPI structure (examples, defaults, ``x-`` extensions, ``info``) is ``DATA``: a ``$ref``
key inside data is just data and is never followed.
"""

from __future__ import annotations

from typing import Final

ROOT: Final = "root"
PATHS: Final = "paths"
PATH_ITEM: Final = "pathItem"
OPERATION: Final = "operation"
PARAMETER: Final = "parameter"
HEADER: Final = "header"
REQUEST_BODY: Final = "requestBody"
RESPONSES: Final = "responses"
RESPONSE: Final = "response"
MEDIA_TYPE: Final = "mediaType"
ENCODING: Final = "encoding"
EXAMPLE: Final = "example"
LINK: Final = "link"
CALLBACK: Final = "callback"
COMPONENTS: Final = "components"
SCHEMA: Final = "schema"
DISCRIMINATOR: Final = "discriminator"
SECURITY_SCHEME: Final = "securityScheme"
DATA: Final = "data"

MAP_PREFIX: Final = "map:"
SECTION_PREFIX: Final = "section:"
"""A ``components/<section>`` map: like ``map:`` but its entries are named components."""
LIST_PREFIX: Final = "list:"

HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

SECTION_OF_KIND: Final[dict[str, str]] = {
    SCHEMA: "schemas",
    RESPONSE: "responses",
    PARAMETER: "parameters",
    EXAMPLE: "examples",
    REQUEST_BODY: "requestBodies",
    HEADER: "headers",
    SECURITY_SCHEME: "securitySchemes",
    LINK: "links",
    CALLBACK: "callbacks",
    PATH_ITEM: "pathItems",
}
KIND_OF_SECTION: Final[dict[str, str]] = {v: k for k, v in SECTION_OF_KIND.items()}

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_SINGLES = (
    "items",
    "additionalItems",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_SCHEMA_CHILDREN: dict[str, str] = {
    **dict.fromkeys(_SCHEMA_MAPS, MAP_PREFIX + SCHEMA),
    **dict.fromkeys(_SCHEMA_LISTS, LIST_PREFIX + SCHEMA),
    **dict.fromkeys(_SCHEMA_SINGLES, SCHEMA),
}
_SCHEMA_CHILDREN["discriminator"] = DISCRIMINATOR

_PARAMETER_CHILDREN = {
    "schema": SCHEMA,
    "content": MAP_PREFIX + MEDIA_TYPE,
    "examples": MAP_PREFIX + EXAMPLE,
}

CHILDREN: Final[dict[str, dict[str, str]]] = {
    ROOT: {
        "paths": PATHS,
        "webhooks": MAP_PREFIX + PATH_ITEM,
        "components": COMPONENTS,
    },
    COMPONENTS: {section: SECTION_PREFIX + kind for section, kind in KIND_OF_SECTION.items()},
    PATH_ITEM: {
        **dict.fromkeys(HTTP_METHODS, OPERATION),
        "parameters": LIST_PREFIX + PARAMETER,
    },
    OPERATION: {
        "parameters": LIST_PREFIX + PARAMETER,
        "requestBody": REQUEST_BODY,
        "responses": RESPONSES,
        "callbacks": MAP_PREFIX + CALLBACK,
    },
    PARAMETER: _PARAMETER_CHILDREN,
    HEADER: _PARAMETER_CHILDREN,
    REQUEST_BODY: {"content": MAP_PREFIX + MEDIA_TYPE},
    RESPONSE: {
        "headers": MAP_PREFIX + HEADER,
        "content": MAP_PREFIX + MEDIA_TYPE,
        "links": MAP_PREFIX + LINK,
    },
    MEDIA_TYPE: {
        "schema": SCHEMA,
        "examples": MAP_PREFIX + EXAMPLE,
        "encoding": MAP_PREFIX + ENCODING,
    },
    ENCODING: {"headers": MAP_PREFIX + HEADER},
    SCHEMA: _SCHEMA_CHILDREN,
    EXAMPLE: {},
    LINK: {},
    SECURITY_SCHEME: {},
    DISCRIMINATOR: {},
}
"""Kind of a child by parent kind and key; a key that is not listed is ``DATA``."""

MAPS_WITH_EXTENSIONS: Final = frozenset({PATHS, RESPONSES, CALLBACK})
"""Maps whose ``x-`` keys are extensions rather than entries (paths, responses, callbacks)."""

ENTRY_OF_MAP: Final[dict[str, str]] = {PATHS: PATH_ITEM, RESPONSES: RESPONSE, CALLBACK: PATH_ITEM}
"""Kind of the entries of the maps that are kinds of their own."""
