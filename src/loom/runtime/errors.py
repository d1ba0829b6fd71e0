"""Exceptions raised by generated SDKs.

Hierarchy::

    APIError
    ├── ConfigurationError                 settings missing, conflicting or invalid
    ├── ConsistencyTimeoutError            ``consistency=`` waited and the predicate never held
    ├── APIResponseValidationError         a 2xx body that does not match the declared type
    ├── APIConnectionError                 no HTTP response (DNS, refused, reset, TLS)
    │   └── APITimeoutError                connect / read / write / pool timeout
    └── APIStatusError                     a non-2xx response
        ├── BadRequestError                400
        ├── AuthenticationError            401
        ├── PermissionDeniedError          403
        ├── NotFoundError                  404
        ├── ConflictError                  409
        ├── UnprocessableEntityError       422
        ├── RateLimitError                 429
        └── InternalServerError            >= 500

Messages never contain credentials: status errors name the operation, method, URL without its
query string, and status, then the server's own words from the body (``error_message``: the
declared error model's message-like field, ``message``, ``error.message``,
``error_description``, ``errors[0]``, RFC 9457 ``title``/``detail``), one line, truncated, with
credentials masked. The whole body is available as ``.body``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from .error_message import describe

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConsistencyTimeoutError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "status_error_class",
]


class APIError(Exception):
    """Base of every exception the SDK raises on purpose."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(APIError):
    """Settings are missing, conflicting or invalid; the message names the variables to fix.

    Attributes:
        variables: the environment variable names involved, in the order mentioned.
    """

    variables: tuple[str, ...]

    def __init__(self, message: str, *, variables: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.variables = variables


class ConsistencyTimeoutError(APIError):
    """``consistency=`` waited ``wait_up_to_seconds`` and the predicate never held.

    Attributes:
        operation_id: the operation that was polled.
        attempts: how many calls were made.
        elapsed_seconds: how long the wait lasted.
        last_result: the last parsed result (``None`` if the last attempt failed).
        last_status: the HTTP status of the last attempt, if there was one.
    """

    def __init__(
        self,
        *,
        operation_id: str,
        attempts: int,
        elapsed_seconds: float,
        last_result: object = None,
        last_status: int | None = None,
    ) -> None:
        super().__init__(
            f"{operation_id}: the result was still not consistent after "
            f"{elapsed_seconds:.2f} s ({attempts} attempts, last status {last_status}); "
            "raise consistency.wait_up_to_seconds or check the predicate"
        )
        self.operation_id = operation_id
        self.attempts = attempts
        self.elapsed_seconds = elapsed_seconds
        self.last_result = last_result
        self.last_status = last_status


class APIConnectionError(APIError):
    """The request got no HTTP response: refused, reset, DNS or TLS failure.

    Attributes:
        request: the ``httpx.Request`` that failed.
    """

    def __init__(self, *, request: httpx.Request, message: str | None = None) -> None:
        super().__init__(message or f"connection error: {request.method} {_safe_url(request)}")
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or waiting for a pooled connection)."""

    def __init__(self, *, request: httpx.Request, message: str | None = None) -> None:
        super().__init__(
            request=request,
            message=message or f"request timed out: {request.method} {_safe_url(request)}",
        )


class APIResponseValidationError(APIError):
    """A success response whose body does not match the operation's declared type.

    Attributes:
        response: the ``httpx.Response``.
        body: the raw body (parsed JSON when it was JSON, else text).
        errors: pydantic's error list, without input values.
    """

    def __init__(
        self,
        *,
        operation_id: str,
        response: httpx.Response,
        body: object,
        errors: list[Any],
    ) -> None:
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:3]
        )
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(
            f"{operation_id}: the {response.status_code} response body does not match the "
            f"declared type: {summary}{more}; the raw body is in .body"
        )
        self.response = response
        self.body = body
        self.errors = errors
        self.status_code = response.status_code


class APIStatusError(APIError):
    """The server answered with a non-2xx status.

    Attributes:
        status_code: the HTTP status.
        headers: the response headers.
        request: the ``httpx.Request``.
        response: the ``httpx.Response``.
        body: the body parsed into the operation's declared error type, else the raw JSON, else
            the text (``None`` when empty).
        operation_id: the operation that failed.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        body: object = None,
        operation_id: str = "",
    ) -> None:
        request = response.request
        prefix = f"{operation_id}: " if operation_id else ""
        super().__init__(
            message
            or f"{prefix}{request.method} {_safe_url(request)} returned {response.status_code}"
            + describe(body, request)
        )
        self.response = response
        self.request = request
        self.status_code = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self.body = body
        self.operation_id = operation_id

    @override
    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, message={self.message!r})"


class BadRequestError(APIStatusError):
    """400 Bad Request."""


class AuthenticationError(APIStatusError):
    """401 Unauthorized."""


class PermissionDeniedError(APIStatusError):
    """403 Forbidden."""


class NotFoundError(APIStatusError):
    """404 Not Found."""


class ConflictError(APIStatusError):
    """409 Conflict."""


class UnprocessableEntityError(APIStatusError):
    """422 Unprocessable Entity."""


class RateLimitError(APIStatusError):
    """429 Too Many Requests."""


class InternalServerError(APIStatusError):
    """5xx server error."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The shared exception class for a non-2xx status.

    Args:
        status_code: the HTTP status.

    Returns:
        The most specific class of the hierarchy for it.
    """
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)


def _safe_url(request: httpx.Request) -> str:
    # The query string may carry an API key (apiKey in query); never put it in a message.
    url = request.url
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}"
