"""Parsing responses: typed success bodies, declared error bodies, and ``RawResponse``.

Success bodies are validated with a pydantic ``TypeAdapter`` built for the operation's
annotation on first use and cached (never at import). Error bodies never raise while being
parsed: they fall back to the raw JSON, then to the text.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import pydantic

from .errors import APIResponseValidationError, APIStatusError, status_error_class
from .operation import Operation

if TYPE_CHECKING:
    import httpx

__all__ = ["RawResponse", "adapter_for", "error_for", "parse_success"]

T = TypeVar("T")

_ADAPTERS: dict[Any, pydantic.TypeAdapter[Any]] = {}
_ADAPTERS_LOCK = threading.Lock()


def adapter_for(annotation: Any) -> pydantic.TypeAdapter[Any]:
    """The cached ``TypeAdapter`` of an annotation (built on first use).

    Args:
        annotation: a model class, ``list[Model]``, a union, or any type pydantic accepts.

    Returns:
        The adapter.
    """
    try:
        return _ADAPTERS[annotation]
    except KeyError:
        pass
    except TypeError:  # unhashable annotation: build every time
        return pydantic.TypeAdapter(annotation)
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
    with _ADAPTERS_LOCK:
        return _ADAPTERS.setdefault(annotation, adapter)


class RawResponse(Generic[T]):
    """The response of a call made through ``with_raw_response``: status, headers and typed body.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers.
        parsed: the body parsed into the operation's type.
        http_response: the ``httpx.Response``.
        request: the ``httpx.Request``.
    """

    __slots__ = ("headers", "http_response", "parsed", "request", "status_code")

    def __init__(self, http_response: httpx.Response, parsed: T) -> None:
        self.http_response = http_response
        self.request: httpx.Request = http_response.request
        self.status_code: int = http_response.status_code
        self.headers: Mapping[str, str] = http_response.headers
        self.parsed: T = parsed

    def parse(self) -> T:
        """The typed body (same as ``parsed``)."""
        return self.parsed

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}] {type(self.parsed).__name__}>"


def _raw_body(response: httpx.Response) -> object:
    content = response.content
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return response.text


def parse_success(op: Operation[T], response: httpx.Response) -> T:
    """Parse a 2xx response into the operation's declared type.

    Args:
        op: the operation.
        response: a 2xx response whose body was read.

    Returns:
        The typed body; ``None`` for 204 or an operation without a response body.

    Raises:
        APIResponseValidationError: the body does not match the declared type.
    """
    kind = op.response_kind
    annotation = op.response
    if kind == "none" or response.status_code == 204 or annotation is None:
        return cast(T, None)
    if kind == "bytes":
        return cast(T, response.content)
    if kind == "text":
        return cast(T, response.text)
    content = response.content
    try:
        if not content:
            raise pydantic.ValidationError.from_exception_data(
                "body", [{"type": "missing", "loc": ("body",), "input": None}]
            )
        if op.envelope is not None:
            return _unwrap(op, content)
        parsed: T = adapter_for(annotation).validate_json(content)
        return parsed
    except pydantic.ValidationError as exc:
        errors: list[Any] = list(exc.errors(include_input=False, include_url=False))
        raise APIResponseValidationError(
            operation_id=op.operation_id,
            response=response,
            body=_raw_body(response),
            errors=errors,
        ) from None


def _unwrap(op: Operation[T], content: bytes) -> T:
    """The envelope member of a JSON body, validated against the operation's type."""
    assert op.envelope is not None
    try:
        document: object = json.loads(content)
    except ValueError:
        document = None
    if not isinstance(document, dict) or op.envelope not in document:
        raise pydantic.ValidationError.from_exception_data(
            "body", [{"type": "missing", "loc": (op.envelope,), "input": document}]
        )
    member: object = cast("dict[str, Any]", document)[op.envelope]
    parsed: T = adapter_for(op.response).validate_python(member)
    return parsed


def _declared_error_type(op: Operation[Any], status_code: int) -> Any:
    errors = op.errors
    if not errors:
        return None
    exact = errors.get(str(status_code))
    if exact is not None:
        return exact
    ranged = errors.get(f"{status_code // 100}XX")
    if ranged is not None:
        return ranged
    return errors.get("default")


def error_for(op: Operation[Any], response: httpx.Response) -> APIStatusError:
    """The exception for a non-2xx response, its body parsed as well as possible.

    Args:
        op: the operation.
        response: the response, body read.

    Returns:
        An instance of the operation's class for the status, else the shared class.
    """
    body = _raw_body(response)
    annotation = _declared_error_type(op, response.status_code)
    if annotation is not None and body is not None and not isinstance(body, str):
        # The raw JSON is the documented fallback: an error path never raises a validation error.
        with contextlib.suppress(Exception):
            body = adapter_for(annotation).validate_python(body)
    cls = op.error_classes.get(response.status_code) or status_error_class(response.status_code)
    if issubclass(cls, APIStatusError):
        return cls(response=response, body=body, operation_id=op.operation_id)
    fallback = status_error_class(response.status_code)
    return fallback(response=response, body=body, operation_id=op.operation_id)
