"""Parameter and request-body encoding: pure functions, no I/O, no httpx.

Parameters follow the style table of OpenAPI 3.1 §4.8.12.4 ("Style Examples"): for
``color = "blue"``, ``["blue", "black", "brown"]`` and ``{"R": 100, "G": 200, "B": 150}``:

=============== ======= ====================================================================
style           explode  array / object
=============== ======= ====================================================================
matrix          false   ``;color=blue,black,brown`` / ``;color=R,100,G,200,B,150``
matrix          true    ``;color=blue;color=black;color=brown`` / ``;R=100;G=200;B=150``
label           false   ``.blue,black,brown`` / ``.R,100,G,200,B,150``
label           true    ``.blue.black.brown`` / ``.R=100.G=200.B=150``
simple          false   ``blue,black,brown`` / ``R,100,G,200,B,150``
simple          true    ``blue,black,brown`` / ``R=100,G=200,B=150``
form            false   ``color=blue,black,brown`` / ``color=R,100,G,200,B,150``
form            true    ``color=blue&color=black&color=brown`` / ``R=100&G=200&B=150``
spaceDelimited  false   ``color=blue%20black%20brown`` / ``color=R%20100%20G%20200%20B%20150``
pipeDelimited   false   ``color=blue|black|brown`` / ``color=R|100|G|200|B|150``
tabDelimited    false   ``color=blue%09black%09brown`` (not an OpenAPI 3 style: Swagger 2.0 tsv)
deepObject      true    (objects only) ``color[R]=100&color[G]=200&color[B]=150``
=============== ======= ====================================================================

Swagger 2.0 documents converted by loom may also give arrays in a path or a header the styles
``spaceDelimited``, ``pipeDelimited`` and ``tabDelimited`` (``collectionFormat`` ssv, pipes, tsv):
the values are joined by that delimiter instead of commas.

Values are percent-encoded per component (RFC 3986 §2.1); delimiters stay literal. Query
parameters with ``allowReserved`` keep RFC 3986 reserved characters unescaped.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, NamedTuple, cast
from urllib.parse import quote, unquote

import pydantic
from pydantic_core import to_jsonable_python

from .operation import Body, Encoding, Param
from .types import NotGiven

__all__ = [
    "EncodedBody",
    "cookie_header",
    "encode_body",
    "query_string",
    "serialize_header",
    "serialize_path",
    "serialize_query",
    "to_jsonable",
]

_RESERVED = ":/?#[]@!$&'()*+,;="
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}
"""Delimiters of the delimited styles, as text (headers)."""
_ENCODED_DELIMITERS = {"spaceDelimited": "%20", "pipeDelimited": "|", "tabDelimited": "%09"}
"""The same in a URL (the pipe stays literal, as in the specification's table)."""


def to_jsonable(value: object) -> Any:
    """Convert a value into JSON-compatible Python: models by alias with unset fields left out.

    ``NOT_GIVEN`` values inside mappings are dropped; ``None`` stays (it is JSON ``null``).

    Args:
        value: a model, mapping, sequence or scalar.

    Returns:
        Plain dicts, lists, strings, numbers, booleans and ``None``.
    """
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        items: Mapping[Any, Any] = cast(Any, value)
        return {str(k): to_jsonable(v) for k, v in items.items() if not isinstance(v, NotGiven)}
    if isinstance(value, str | int | float | bool) or value is None:
        if isinstance(value, enum.Enum):
            return value.value
        return value
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in cast("Sequence[Any]", value)]
    return to_jsonable_python(value, by_alias=True)


def _scalar(value: object) -> str:
    """The text form of one primitive value in a parameter."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _scalar(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    jsonable = to_jsonable(value)
    if isinstance(jsonable, str):
        return jsonable
    return json.dumps(jsonable, separators=(",", ":"))


class _Shape(NamedTuple):
    """A parameter value classified for the style table."""

    kind: Literal["scalar", "array", "object"]
    scalar: str = ""
    array: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()


def _shape(value: object) -> _Shape:
    """Classify a value as a scalar, an array or an object (with text members)."""
    if isinstance(value, pydantic.BaseModel):
        value = to_jsonable(value)
    if isinstance(value, Mapping):
        items: Mapping[Any, Any] = cast(Any, value)
        pairs = tuple((str(k), _scalar(v)) for k, v in items.items() if not isinstance(v, NotGiven))
        return _Shape("object", pairs=pairs)
    if isinstance(value, list | tuple | set | frozenset):
        return _Shape("array", array=tuple(_scalar(v) for v in cast("Sequence[Any]", value)))
    return _Shape("scalar", scalar=_scalar(value))


def _q(text: str, *, allow_reserved: bool = False) -> str:
    return quote(text, safe=_RESERVED if allow_reserved else "")


def _content_value(param: Param, value: object) -> str:
    # A parameter with `content` (OpenAPI 3 §4.8.12.3) is one string in that media type.
    return json.dumps(to_jsonable(value), separators=(",", ":"))


def serialize_path(param: Param, value: object) -> str:
    """The encoded text that replaces ``{name}`` in the path (styles simple, label, matrix).

    Args:
        param: the parameter (location ``path``).
        value: its value.

    Returns:
        Percent-encoded text with the style's delimiters.
    """
    if param.content_type is not None:
        return _q(_content_value(param, value))
    shape = _shape(value)
    name = param.name
    style = param.style
    explode = param.explode
    if shape.kind == "scalar":
        text = _q(shape.scalar)
        if style == "label":
            return f".{text}"
        if style == "matrix":
            return f";{name}={text}" if text else f";{name}"
        return text
    if shape.kind == "array":
        parts = [_q(v) for v in shape.array]
        if style in _DELIMITERS:
            return _ENCODED_DELIMITERS[style].join(parts)
        if style == "label":
            return "." + ("." if explode else ",").join(parts)
        if style == "matrix":
            if explode:
                return "".join(f";{name}={p}" for p in parts)
            return f";{name}=" + ",".join(parts)
        return ",".join(parts)
    pairs = [(_q(k), _q(v)) for k, v in shape.pairs]
    if explode:
        joined = [f"{k}={v}" for k, v in pairs]
        if style == "label":
            return "." + ".".join(joined)
        if style == "matrix":
            return "".join(f";{p}" for p in joined)
        return ",".join(joined)
    flat = ",".join(f"{k},{v}" for k, v in pairs)
    if style == "label":
        return f".{flat}"
    if style == "matrix":
        return f";{name}={flat}"
    return flat


def serialize_header(param: Param, value: object) -> str:
    """The header value for a ``simple``-style header parameter (no percent-encoding)."""
    if param.content_type is not None:
        return _content_value(param, value)
    shape = _shape(value)
    if shape.kind == "scalar":
        return shape.scalar
    if shape.kind == "array":
        return _DELIMITERS.get(param.style, ",").join(shape.array)
    if param.explode:
        return ",".join(f"{k}={v}" for k, v in shape.pairs)
    return ",".join(f"{k},{v}" for k, v in shape.pairs)


def serialize_query(param: Param, value: object) -> list[str]:
    """The encoded ``key=value`` fragments for one query (or cookie) parameter.

    Args:
        param: the parameter (styles form, spaceDelimited, pipeDelimited, deepObject).
        value: its value; ``None`` gives the empty value (``color=``).

    Returns:
        Fragments to join with ``&``.
    """
    name = _q(param.name)
    reserved = param.allow_reserved
    if param.content_type is not None:
        return [f"{name}={_q(_content_value(param, value), allow_reserved=reserved)}"]
    shape = _shape(value)
    if shape.kind == "scalar":
        return [f"{name}={_q(shape.scalar, allow_reserved=reserved)}"]
    style = param.style
    if style == "deepObject":
        return _deep_object(param.name, value, reserved)
    delimiter = _ENCODED_DELIMITERS.get(style, ",")
    if shape.kind == "array":
        parts = [_q(v, allow_reserved=reserved) for v in shape.array]
        if param.explode:
            return [f"{name}={p}" for p in parts]
        return [f"{name}={delimiter.join(parts)}"]
    pairs = [
        (_q(k, allow_reserved=reserved), _q(v, allow_reserved=reserved)) for k, v in shape.pairs
    ]
    if param.explode and style == "form":
        return [f"{k}={v}" for k, v in pairs]
    return [f"{name}=" + delimiter.join(f"{k}{delimiter}{v}" for k, v in pairs)]


def _deep_object(prefix: str, value: object, reserved: bool) -> list[str]:
    # Brackets stay literal, as in the specification's table; the names inside are escaped.
    jsonable = to_jsonable(value)
    out: list[str] = []

    def walk(key: str, node: object) -> None:
        if isinstance(node, dict):
            mapping: dict[str, Any] = cast(Any, node)
            for k, v in mapping.items():
                walk(f"{key}[{_q(str(k), allow_reserved=reserved)}]", v)
        elif isinstance(node, list):
            # Arrays inside a deep object are indexed (``a[0]=x&a[1]=y``): the specification
            # leaves them undefined, and this is the form Rails/Rack and Stripe parse back.
            values: list[Any] = cast(Any, node)
            for i, v in enumerate(values):
                walk(f"{key}[{i}]", v)
        else:
            out.append(f"{key}={_q(_scalar(node), allow_reserved=reserved)}")

    walk(_q(prefix, allow_reserved=reserved), jsonable)
    return out


def query_string(fragments: Sequence[str], extra_query: Mapping[str, object] | None) -> str:
    """Join parameter fragments and ``extra_query`` (form style, exploded) into a query string."""
    parts = list(fragments)
    if extra_query:
        for key, value in extra_query.items():
            if isinstance(value, NotGiven):
                continue
            parts.extend(serialize_query(Param(key, "query", "form", True), value))
    return "&".join(parts)


def cookie_header(params: Sequence[tuple[Param, object]]) -> str:
    """The ``Cookie`` header for cookie parameters (form style, RFC 6265 ``; `` separators)."""
    return "; ".join(frag for p, v in params for frag in serialize_query(p, v))


class EncodedBody:
    """A request body ready for ``httpx.Client.build_request``.

    Attributes:
        content: raw bytes (JSON, text, binary, form), or ``None``.
        files: multipart parts for httpx (``[(name, (filename, content, type))]``), or ``None``.
        data: multipart non-file fields, or ``None``.
        content_type: the ``Content-Type`` header to send, or ``None`` (httpx sets multipart's).
        stream: a file object or iterator sent as the body (binary uploads), or ``None``.
    """

    __slots__ = ("content", "content_type", "data", "files", "stream")

    def __init__(
        self,
        *,
        content: bytes | None = None,
        content_type: str | None = None,
        files: list[tuple[str, Any]] | None = None,
        data: dict[str, Any] | None = None,
        stream: Any = None,
    ) -> None:
        self.content = content
        self.content_type = content_type
        self.files = files
        self.data = data
        self.stream = stream


def _is_json(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def _fields(body: object) -> dict[str, Any]:
    """Top-level fields of a model or mapping, by wire name, files left as they are."""
    if isinstance(body, pydantic.BaseModel):
        out: dict[str, Any] = {}
        model_fields = type(body).model_fields
        for name in body.model_fields_set:
            info = model_fields.get(name)
            wire = name
            if info is not None and isinstance(info.serialization_alias, str):
                wire = info.serialization_alias
            elif info is not None and isinstance(info.alias, str):
                wire = info.alias
            out[wire] = getattr(body, name)
        if body.model_extra:
            out.update(body.model_extra)
        return out
    if isinstance(body, Mapping):
        mapping: Mapping[Any, Any] = body  # pyright: ignore[reportUnknownVariableType]
        return {str(k): v for k, v in mapping.items() if not isinstance(v, NotGiven)}
    raise TypeError(
        f"a multipart or form body must be a model or a mapping, not {type(body).__name__}"
    )


def _is_object(value: object) -> bool:
    return isinstance(value, Mapping | pydantic.BaseModel)


def _form_value(value: object, *, as_json: bool) -> str | list[str]:
    if as_json or _is_object(value):
        return json.dumps(to_jsonable(value), separators=(",", ":"))
    if isinstance(value, list | tuple):
        return [_scalar(v) for v in cast("Sequence[Any]", value)]
    return _scalar(value)


def encode_body(spec: Body, body: object, extra_body: Mapping[str, object] | None) -> EncodedBody:
    """Encode a request body for the operation's media type.

    Args:
        spec: the operation's body description.
        body: a model, mapping, ``bytes``, ``str``, a binary file object or an iterator of bytes.
        extra_body: extra top-level fields (JSON, multipart and form bodies only).

    Returns:
        The encoded body.

    Raises:
        TypeError: for a body that the media type cannot carry.
    """
    content_type = spec.content_type
    base = content_type.split(";", 1)[0].strip().lower()
    if _is_json(content_type) and isinstance(body, bytes | bytearray) and not extra_body:
        return EncodedBody(content=bytes(body), content_type=content_type)  # already JSON text
    if _is_json(content_type):
        payload: Any = to_jsonable(body)
        if extra_body:
            if not isinstance(payload, dict):
                raise TypeError("extra_body needs a JSON object body")
            payload = {**cast("dict[str, Any]", payload), **to_jsonable(extra_body)}
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        return EncodedBody(content=text.encode("utf-8"), content_type=content_type)
    if base == "multipart/form-data":
        fields = _fields(body)
        if extra_body:
            fields.update(extra_body)
        return EncodedBody(files=_multipart_parts(spec, fields))
    if base == "application/x-www-form-urlencoded":
        fields = _fields(body)
        if extra_body:
            fields.update(extra_body)
        pairs: list[str] = []
        for name, value in fields.items():
            pairs.extend(_form_pairs(spec, name, value))
        return EncodedBody(content="&".join(pairs).encode("ascii"), content_type=content_type)
    if isinstance(body, str):
        charset = (
            "" if "charset" in content_type or not base.startswith("text/") else ("; charset=utf-8")
        )
        return EncodedBody(content=body.encode("utf-8"), content_type=content_type + charset)
    if isinstance(body, bytes | bytearray):
        return EncodedBody(content=bytes(body), content_type=content_type)
    if hasattr(body, "read") or hasattr(body, "__iter__"):
        return EncodedBody(stream=body, content_type=content_type)
    raise TypeError(
        f"a {content_type} body must be bytes, str or a binary file, not {type(body).__name__}"
    )


def _styled(name: str, value: object, enc: Encoding | None) -> list[str] | None:
    """``key=value`` fragments for a property with a ``style`` (serialised as a query
    parameter of that style, OpenAPI 3 §4.8.15.1), or ``None`` when it has none."""
    if enc is None or enc.style is None:
        return None
    explode = enc.explode if enc.explode is not None else enc.style == "form"
    param = Param(name, "query", enc.style, explode, allow_reserved=enc.allow_reserved)
    return serialize_query(param, value)


def _form_pairs(spec: Body, name: str, value: object) -> list[str]:
    """The encoded ``key=value`` pairs of one property of a form body (OpenAPI 3 §4.8.15)."""
    enc = spec.encoding.get(name)
    styled = _styled(name, value, enc)
    if styled is not None:
        return styled
    # Without a style: objects take the default contentType, application/json; arrays are
    # form/explode (repeated); a declared JSON contentType JSON-encodes any value.
    as_json = name in spec.json_fields or (
        enc is not None and enc.content_type is not None and _is_json(enc.content_type)
    )
    safe = _RESERVED if enc is not None and enc.allow_reserved else ""
    encoded = _form_value(value, as_json=as_json)
    values = encoded if isinstance(encoded, list) else [encoded]
    key = quote(name, safe="")
    return [f"{key}={quote(v, safe=safe)}" for v in values]


def _multipart_parts(spec: Body, fields: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every part of a multipart body, plain fields as ``(None, bytes[, type])`` parts.

    Every part goes in httpx's ``files`` (plain fields without a filename) so that a body
    without files stays multipart.
    """
    parts: list[tuple[str, Any]] = []
    for name, value in fields.items():
        enc = spec.encoding.get(name)
        declared = enc.content_type if enc is not None else None
        if name in spec.file_fields:
            many = isinstance(value, list)
            seq: list[Any] = value if many else [value]  # pyright: ignore[reportUnknownVariableType]
            parts.extend((name, _file_part(name, v, declared)) for v in seq)
            continue
        styled = _styled(name, value, enc)
        if styled is not None:  # OpenAPI 3.1 §4.8.15.1: style applies to multipart/form-data
            for fragment in styled:
                key, _, text = fragment.partition("=")
                parts.append((unquote(key), (None, unquote(text).encode("utf-8"))))
        elif name in spec.json_fields or _is_object(value) or (declared and _is_json(declared)):
            # OpenAPI 3 §4.8.14.4: object parts default to application/json.
            text = json.dumps(to_jsonable(value), separators=(",", ":"))
            parts.append((name, (None, text.encode("utf-8"), declared or "application/json")))
        else:
            encoded = _form_value(value, as_json=False)
            for item in encoded if isinstance(encoded, list) else [encoded]:
                part = (None, item.encode("utf-8"), declared) if declared else (None, item.encode())
                parts.append((name, part))
    return parts


def _file_part(name: str, value: object, content_type: str | None = None) -> object:
    """A multipart file part; bare content gets the field name as its file name."""
    if isinstance(value, tuple):
        return value  # pyright: ignore[reportUnknownVariableType]
    media = content_type or "application/octet-stream"
    if isinstance(value, bytes | bytearray):
        return (name, bytes(value), media)
    filename = getattr(value, "name", None)
    if isinstance(filename, str):
        filename = filename.rsplit("/", 1)[-1]
    return (filename or name, value, media)
