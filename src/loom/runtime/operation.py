"""Declarative description of one API operation, as generated code states it.

Generated resources build one ``Operation`` per API operation at module level and hand it,
with the call's arguments, to the client's request loop. Everything an operation *does*
(encoding parameters, bodies, parsing, errors, retries, pagination) is decided by the runtime
from this description; generated code contains no behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

T = TypeVar("T")

ParamLocation: TypeAlias = Literal["path", "query", "header", "cookie"]
ParamStyle: TypeAlias = Literal[
    "form",
    "simple",
    "label",
    "matrix",
    "deepObject",
    "pipeDelimited",
    "spaceDelimited",
    "tabDelimited",
]
ResponseKind: TypeAlias = Literal["json", "bytes", "text", "none"]
PaginationKind: TypeAlias = Literal["offset", "page", "cursor", "link", "camunda"]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an operation (OpenAPI 3 §4.8.12), keyed by its wire name.

    Attributes:
        name: the name on the wire (``processInstanceKey``, ``X-Request-Id``).
        location: where it goes.
        style: the OpenAPI serialisation style; generated code always states it, applying the
            defaults of the specification (``form`` for query and cookie, ``simple`` for path
            and header).
        explode: the OpenAPI ``explode`` flag, defaults applied likewise.
        allow_reserved: query only; RFC 3986 reserved characters are sent unescaped.
        required: whether the operation requires it (path parameters always are).
        content_type: set when the parameter uses ``content`` instead of ``schema``; the value is
            then serialised as that media type (JSON) and sent as one string.
        arg: the key of the value in a call's argument mapping when it is not ``name``: the
            operation has parameters of that name in several locations (OpenAPI 3 §4.8.12.1: a
            parameter is identified by name *and* location), so ``"header:id"`` keeps the header
            ``id`` apart from the path ``id``.
    """

    name: str
    location: ParamLocation
    style: ParamStyle
    explode: bool
    allow_reserved: bool = False
    required: bool = False
    content_type: str | None = None
    arg: str | None = None

    @property
    def key(self) -> str:
        """The key of this parameter's value in a call's argument mapping."""
        return self.arg or self.name


@dataclass(frozen=True, slots=True)
class Encoding:
    """How one property of a form or multipart body is sent (OpenAPI 3 §4.8.15, Encoding Object).

    Attributes:
        content_type: the property's media type (a multipart part's ``Content-Type``; a JSON
            type JSON-encodes the value in a form body too).
        style: a query style (``form``, ``deepObject``, ``spaceDelimited``, ``pipeDelimited``):
            the property is serialised like a query parameter of that style, ``deepObject``
            nesting brackets (``metadata[k]=v``, ``items[0][price]=p``); ``None`` keeps the
            defaults (objects as JSON, arrays repeated).
        explode: the ``explode`` flag for ``style`` (defaults to ``style == "form"``).
        allow_reserved: RFC 3986 reserved characters are sent unescaped.
    """

    content_type: str | None = None
    style: ParamStyle | None = None
    explode: bool | None = None
    allow_reserved: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """The request body of an operation.

    Attributes:
        content_type: the media type sent: ``application/json`` (and ``+json`` types),
            ``multipart/form-data``, ``application/x-www-form-urlencoded``,
            ``application/octet-stream`` (or any other binary type), ``text/plain``.
        required: whether the body is required.
        file_fields: for multipart, the wire names of the fields that are files (a list field
            carries several files under one name).
        json_fields: for multipart and form bodies, fields whose values are objects or arrays
            and are sent JSON-encoded (OpenAPI 3 §4.8.14.4 default for objects in multipart).
        encoding: the media type's ``encoding`` map, by wire name (form and multipart bodies).
    """

    content_type: str
    required: bool = False
    file_fields: frozenset[str] = frozenset()
    json_fields: frozenset[str] = frozenset()
    encoding: Mapping[str, Encoding] = field(default_factory=dict[str, "Encoding"])


@dataclass(frozen=True, slots=True)
class Pagination:
    """How an operation pages through a collection; drives ``*_all`` iterators and page objects.

    Field names are wire names. ``request_in`` says whether the paging inputs are query
    parameters or fields of the JSON body (Camunda's search ``page`` object sits in the body).

    Kinds and the fields they use:
        offset: ``offset_param``/``limit_param`` in the request; ``items_field`` in the result;
            stops on a short or empty page or when ``total_field`` is reached.
        page: ``page_param``/``size_param``; stops likewise (``page_start`` is 0 or 1).
        cursor: ``cursor_param`` in the request, ``next_cursor_field`` (a dotted path) in the
            result, or with ``cursor_item_field`` that field of the page's last item (Stripe's
            ``starting_after`` = the last ``id``); stops when the cursor is missing, empty or
            repeats.
        link: the next page's URL, from the ``Link`` header's ``rel="next"`` (RFC 8288; GitHub)
            or from ``next_url_field`` in the result (Twilio's ``next_page_uri``); its query
            parameters become the next request's; stops when there is none.

    Every kind also stops on an empty page, when ``has_more_field`` is false, when
    ``total_field`` items were seen, or on the page ``total_pages_field`` names as the last.
    ``items_field`` is ``""`` when the result itself is the list of items.
        camunda: body ``page`` object ``{"from", "limit", "after", "before"}``; the result's
            ``page.endCursor`` feeds ``after``; stops on a short page or a missing cursor.
    """

    kind: PaginationKind
    items_field: str
    request_in: Literal["query", "body"] = "query"
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_param: str = "page"
    size_param: str = "size"
    page_start: int = 1
    cursor_param: str = "cursor"
    next_cursor_field: str = "next_cursor"
    total_field: str | None = None
    page_object_field: str = "page"
    has_more_field: str | None = None
    cursor_item_field: str | None = None
    next_url_field: str | None = None
    total_pages_field: str | None = None
    item_type: Any = None
    """The annotation of one item, for iterators; the runtime validates items with it."""


@dataclass(frozen=True, slots=True)
class SecurityRequirement:
    """One alternative of an operation's ``security`` list: scheme names that apply together."""

    schemes: tuple[str, ...]


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One API operation. ``T`` is what a successful call returns after parsing.

    Attributes:
        operation_id: the schema's ``operationId`` (or the id loom derived), for logs and errors.
        method: upper-case HTTP method.
        path: the path template relative to the base URL (``/process-instances/{key}``).
        params: every parameter, keyed by wire name in call arguments (``Param.key``: a name
            used in several locations is keyed ``"<location>:<name>"`` for all but the first).
        body: the request body, if the operation takes one.
        response: the annotation of the success body (a model class, ``list[Model]``,
            a union, ``bytes``, ``str``, ``None``); the runtime builds and caches a pydantic
            ``TypeAdapter`` for it on first use, never at import.
        response_kind: how to read the success body.
        success_statuses: declared 2xx statuses (``204`` means no body whatever the kind).
        errors: declared error bodies by status: ``"404"``, ``"4XX"``, ``"default"`` → annotation.
        error_classes: optional per-operation exception classes by status code (generator
            option); otherwise the shared ``BadRequestError`` … classes are raised.
        security: the alternatives of the operation's security requirement; ``None`` means the
            document's default applies; an empty tuple means no auth.
        eventually_consistent: the operation is marked ``x-eventually-consistent`` and accepts
            ``consistency=`` on calls.
        pagination: set when the operation pages; see ``Pagination``.
        deprecated: the operation is deprecated (a ``DeprecationWarning`` is also raised by the
            generated method's ``@deprecated``).
        accept: the ``Accept`` header: every media type the operation's responses declare
            (success and error); ``None`` sends ``application/json``.
        idempotent: ``True`` lets the runtime retry the operation like a GET even when its method
            is POST or PATCH (a search); ``None`` decides by method.
        envelope: the member of the JSON success body that holds the result (Proxmox answers
            ``{"data": …}``); the runtime validates and returns that member.
    """

    operation_id: str
    method: str
    path: str
    params: tuple[Param, ...] = ()
    body: Body | None = None
    response: Any = None
    response_kind: ResponseKind = "json"
    success_statuses: tuple[int, ...] = (200,)
    errors: Mapping[str, Any] = field(default_factory=dict[str, Any])
    error_classes: Mapping[int, type[Exception]] = field(default_factory=dict[int, type[Exception]])
    security: tuple[SecurityRequirement, ...] | None = None
    eventually_consistent: bool = False
    pagination: Pagination | None = None
    deprecated: bool = False
    idempotent: bool | None = None
    accept: str | None = None
    envelope: str | None = None


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """One entry of ``components.securitySchemes`` (OpenAPI 3 §4.8.27), as the runtime needs it.

    Attributes:
        kind: ``http``, ``apiKey``, ``oauth2``, ``openIdConnect`` or ``mutualTLS``.
        scheme: for ``http``: ``basic`` or ``bearer`` (lower case).
        name: for ``apiKey``: the header, query or cookie name.
        location: for ``apiKey``: ``header``, ``query`` or ``cookie``.
        token_url: for ``oauth2``: the client-credentials flow's token URL, if the schema has one.
        scopes: for ``oauth2``: the scopes the flow declares.
    """

    kind: Literal["http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"]
    scheme: str | None = None
    name: str | None = None
    location: Literal["header", "query", "cookie"] | None = None
    token_url: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenExchange:
    """An API that issues its own tokens: what to POST for one and how to send it back.

    The ``TOKEN_EXCHANGE`` auth strategy POSTs ``{id_field: client_id, secret_field:
    client_secret}`` as JSON to ``path`` (relative to the base URL, or an absolute URL; the
    ``oauth_url`` setting overrides it), reads ``token_field`` from the JSON answer, and sends
    ``prefix + token`` in ``header``. Defaults are Conductor's (``POST /token``,
    ``X-Authorization``).

    Attributes:
        path: the token endpoint.
        id_field: JSON field of the id.
        secret_field: JSON field of the secret.
        token_field: JSON field of the token in the answer.
        header: the request header that carries the token.
        prefix: text before the token in the header (``"Bearer "``), or nothing.
        lifetime_seconds: renew the token after this long; ``None``: only after a 401.
    """

    path: str = "/token"
    id_field: str = "keyId"
    secret_field: str = "keySecret"
    token_field: str = "token"
    header: str = "X-Authorization"
    prefix: str = ""
    lifetime_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class SdkInfo:
    """What a generated SDK tells the runtime about itself; one instance per SDK, in ``_client.py``.

    Attributes:
        name: the SDK's distribution name, used in the User-Agent.
        version: the SDK's version, used in the User-Agent.
        env_prefix: prefix of its environment variables (``CAMUNDA`` → ``CAMUNDA_BASE_URL``).
        default_base_url: the first server of the schema with its variables' defaults applied.
        env_names: overrides of variable names per setting
            (``{"base_url": "CAMUNDA_REST_ADDRESS"}``) from the generator configuration.
        security_schemes: the schema's security schemes by name.
        default_security: the document-level ``security`` requirement.
        setting_defaults: SDK-specific defaults of settings (``{"audience": "zeebe.camunda.io"}``),
            below explicit arguments, the environment and ``.env``.
        env_aliases: further variables read for a setting
            (``{"base_url": ("ZEEBE_REST_ADDRESS",)}``); two of them set to different values
            is a configuration error.
        base_url_suffix: a base path appended to a configured base URL that lacks it (``/v2``),
            unless the ``base_url_exact`` setting is true.
        token_exchange: how the API issues its own tokens (``TOKEN_EXCHANGE`` strategy), or
            ``None``.
        base_url_drop_suffix: removed from a configured base URL that ends with it, unless
            ``base_url_exact`` is true: Conductor's paths start with ``/api`` while its users'
            ``CONDUCTOR_SERVER_URL`` ends with it (``http://host:8080/api``).
        parameter_settings: query/header parameter wire name → the setting whose value the
            parameter takes when a call leaves it out (Camunda: ``{"tenantId": "tenant_id"}``).
    """

    name: str
    version: str
    env_prefix: str
    default_base_url: str
    env_names: Mapping[str, str] = field(default_factory=dict[str, str])
    security_schemes: Mapping[str, SecurityScheme] = field(
        default_factory=dict[str, SecurityScheme]
    )
    default_security: tuple[SecurityRequirement, ...] = ()
    setting_defaults: Mapping[str, object] = field(default_factory=dict[str, object])
    env_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict[str, tuple[str, ...]])
    base_url_suffix: str = ""
    token_exchange: TokenExchange | None = None
    base_url_drop_suffix: str = ""
    parameter_settings: Mapping[str, str] = field(default_factory=dict[str, str])
