"""The generator's TOML file as strict pydantic models, and errors that point into the file.

Every table is a model with ``extra="forbid"``: a misspelt key (``[sdk] layuot = "flat"``) is an
error that names the key, its line and the nearest valid spelling, instead of a silent default.
``loom.codegen.config.load_config`` turns a validated file into a ``GeneratorConfig``.
"""

from __future__ import annotations

import difflib
import re
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_PACKAGE = r"^[a-z_][a-z0-9_]*$"
_ENV = r"^[A-Z_][A-Z0-9_]*$"

EnvName = Annotated[str, Field(pattern=_ENV)]
Scalar = str | int | float | bool


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SdkTable(_Table):
    """``[sdk]``."""

    package: Annotated[str, Field(pattern=_PACKAGE)] | None = None
    """``None``: derived from the schema's title (``loom.codegen.config.derive_names``)."""
    distribution: str | None = None
    version: str = "0.1.0"
    layout: Literal["resources", "flat", "paths"] = "resources"
    source: Literal["auto", "openapi", "proxmox"] = "auto"
    error_classes: Literal["shared", "per-operation"] = "shared"
    body_style: Literal["fields", "body"] = "fields"
    include_tags: list[str] = Field(default_factory=list[str])
    idempotent: list[str] = Field(default_factory=list[str])


class NamesTable(_Table):
    """``[names]``: schema names → Python names."""

    operations: dict[str, str] = Field(default_factory=dict[str, str])
    models: dict[str, str] = Field(default_factory=dict[str, str])


class HooksTable(_Table):
    """``[hooks]``: hook folders, relative to the configuration file."""

    pre: str | None = None
    post: str | None = None


class TokenExchangeTable(_Table):
    """``[runtime.token_exchange]``: the API issues its own tokens (``runtime.TokenExchange``)."""

    path: str = "/token"
    id_field: str = "keyId"
    secret_field: str = "keySecret"
    token_field: str = "token"
    header: str = "X-Authorization"
    prefix: str = ""
    lifetime_seconds: Annotated[float, Field(gt=0)] | None = None


class RuntimeTable(_Table):
    """``[runtime]``: the SDK's configuration names and defaults."""

    env_prefix: EnvName | None = None
    base_url_suffix: str = ""
    base_url_drop_suffix: str = ""
    token_exchange: TokenExchangeTable | None = None
    env_names: dict[str, EnvName] = Field(default_factory=dict[str, EnvName])
    env_aliases: dict[str, EnvName | list[EnvName]] = Field(
        default_factory=dict[str, EnvName | list[EnvName]]
    )
    setting_defaults: dict[str, Scalar | list[str]] = Field(
        default_factory=dict[str, Scalar | list[str]]
    )
    parameter_settings: dict[str, str] = Field(default_factory=dict[str, str])


class PaginationTable(_Table):
    """``[pagination.<operationId>]``: field names are wire names (see runtime ``Pagination``)."""

    kind: Literal["offset", "page", "cursor", "link", "camunda", "none"]
    items_field: str | None = None
    request_in: Literal["query", "body"] | None = None
    offset_param: str | None = None
    limit_param: str | None = None
    page_param: str | None = None
    size_param: str | None = None
    page_start: int | None = None
    cursor_param: str | None = None
    next_cursor_field: str | None = None
    total_field: str | None = None
    page_object_field: str | None = None
    # issue 17 (wire): the stop flags and link/last-item cursors of declared pagination
    has_more_field: str | None = None
    cursor_item_field: str | None = None
    next_url_field: str | None = None
    total_pages_field: str | None = None


class RenamesTable(_Table):
    """``[renames]``: old Python name → new Python name; the SDK keeps the old one, deprecated.

    Keys and values are the names users write: ``"process_instance.start" = "process_instance.
    create"`` (``"start" = "create"`` in the flat layout), ``OldModel = "NewModel"``,
    ``"NewModel.old_field" = "new_field"`` and ``"resource.method.old_param" = "new_param"`` (the
    method by its new name).
    """

    operations: dict[str, str] = Field(default_factory=dict[str, str])
    models: dict[str, str] = Field(default_factory=dict[str, str])
    fields: dict[str, str] = Field(default_factory=dict[str, str])
    parameters: dict[str, str] = Field(default_factory=dict[str, str])


class WorkerTable(_Table):
    """``[worker]``: the engine whose job workers the SDK carries (docs/worker.md)."""

    adapter: Literal["camunda", "conductor"] | None = None


class ConfigFile(_Table):
    """The whole file."""

    sdk: SdkTable = Field(default_factory=SdkTable)
    names: NamesTable = Field(default_factory=NamesTable)
    hooks: HooksTable = Field(default_factory=HooksTable)
    runtime: RuntimeTable = Field(default_factory=RuntimeTable)
    pagination: dict[str, PaginationTable] = Field(default_factory=dict[str, PaginationTable])
    renames: RenamesTable = Field(default_factory=RenamesTable)
    groups: dict[str, str] = Field(default_factory=dict[str, str])
    """``[groups]`` (issue 17): path or operationId pattern → resource."""
    worker: WorkerTable = Field(default_factory=WorkerTable)


# What to say instead of pydantic's wording, for values whose rule a user cannot guess.
_HINTS = {
    "sdk.package": "must be a lower-case Python identifier",
    "runtime.env_prefix": "must be upper-case letters, digits and _",
}


def parse_file(data: dict[str, Any], text: str, where: str) -> ConfigFile:
    """Validate the parsed TOML ``data`` (read from ``text``, the file ``where``).

    Raises:
        ValueError: one line per problem, each ``file:line: dotted.key: what is wrong``.
    """
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        found = sorted(_describe(err, text, where) for err in exc.errors(include_url=False))
        raise ValueError("\n".join(dict.fromkeys(line for _, line in found))) from None


def _describe(err: Any, text: str, where: str) -> tuple[int, str]:
    loc = _key_path(err["loc"])
    return _describe_at(err, loc, line_of(text, loc) or 0, where)


def _describe_at(err: Any, loc: list[str], line: int, where: str) -> tuple[int, str]:
    dotted = ".".join(loc)
    at = f"{where}:{line}" if line else where
    if err["type"] == "extra_forbidden":
        valid = _keys_at(loc[:-1])
        close = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(valid)
        return line, f"{at}: {dotted}: unknown key{hint}; valid keys here: {known}"
    hint = next((h for k, h in _HINTS.items() if dotted == k or dotted.startswith(k + ".")), None)
    message = hint or _pydantic_message(err)
    return line, f"{at}: {dotted}: {message} (got {_shown(err.get('input'))})"


def _pydantic_message(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "literal_error":
        return msg.replace("Input should be", "must be")
    if err["type"] == "string_pattern_mismatch":
        return msg.replace("String should match pattern", "must match")
    if err["type"] == "model_type":
        return "must be a table"
    return msg.replace("Input should be", "must be")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_path(loc: tuple[Any, ...]) -> list[str]:
    """The TOML keys of a pydantic location (union member tags dropped, list indexes kept)."""
    out: list[str] = []
    for part in loc:
        tag = isinstance(part, str) and (
            part in _UNION_TAGS or part.startswith(("list[", "dict[", "function-"))
        )
        if not tag:
            out.append(str(part))
    return out


_UNION_TAGS = frozenset({"str", "int", "float", "bool", "constrained-str"})


def _keys_at(loc: list[str]) -> list[str]:
    """The valid keys of the table at ``loc`` (``[]`` when it is not a fixed table)."""
    current: Any = ConfigFile
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return []
            current = info.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
        current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(?P<key>(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.\- \"']+?))\s*=")


def line_of(text: str, loc: list[str]) -> int | None:
    """The 1-based line of the deepest key of ``loc`` that the file spells out, if any."""
    table: list[str] = []
    best: tuple[int, int] | None = None  # (matched depth, line)
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            table = _split_key(header.group("name"))
            path = table
        else:
            key = _KEY.match(raw)
            if not key:
                continue
            path = [*table, *_split_key(key.group("key"))]
        # A key on the way to ``loc``, or a table under it (``[a.b]`` defines ``a``).
        depth = min(len(path), len(loc))
        if path[:depth] == loc[:depth] and (best is None or depth > best[0]):
            best = (depth, number)
    return best[1] if best else None


def _split_key(dotted: str) -> list[str]:
    """``a."b.c".d`` → ``["a", "b.c", "d"]`` (TOML dotted keys with quoted parts)."""
    parts: list[str] = []
    current = ""
    quote: str | None = None
    for ch in dotted.strip():
        if quote:
            if ch == quote:
                quote = None
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return parts
