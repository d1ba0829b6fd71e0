"""``SyncAPIClient`` and ``AsyncAPIClient``: the two request loops of every generated SDK.

Both send one prepared request through the one retry loop (``retry_loop``): an attempt is the
I/O, the judge (``_send_policy``: ``retries.should_retry`` and ``retries.retry_delay_seconds``,
the decision and its reason logged at debug) is shared.
Everything that is not I/O (configuration, encoding, parsing, the retry policy) is shared in
``_base``, ``encoding``, ``response`` and ``retries``. httpx is imported on the first request.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from ._base import BaseClient, CallOptions, PreparedRequest
from .consistency import Consistency, poll_async, poll_sync
from .errors import APIConnectionError, APITimeoutError
from .operation import Operation
from .response import RawResponse, error_for, parse_success
from .retries import retry_delay_seconds, should_retry
from .retry_loop import Failed, Retry, run_async, run_sync
from .types import NOT_GIVEN, Headers, JsonBody, NotGiven, Query, TimeoutLike

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

    from .pagination import AsyncPager, SyncPager


__all__ = ["AsyncAPIClient", "SyncAPIClient"]

T = TypeVar("T")


def _timeout_arg(call_timeout: TimeoutLike | NotGiven, client_timeout: Any) -> Any:
    """The ``timeout=`` for ``build_request``: the call's, else the client copy's, else httpx's."""
    import httpx

    chosen = client_timeout if isinstance(call_timeout, NotGiven) else call_timeout
    if isinstance(chosen, NotGiven):
        return httpx.USE_CLIENT_DEFAULT
    if chosen is None or isinstance(chosen, httpx.Timeout):
        return chosen if chosen is not None else httpx.Timeout(None)
    return httpx.Timeout(float(chosen))


def _build(
    http: httpx.Client | httpx.AsyncClient, prepared: PreparedRequest, timeout: Any
) -> httpx.Request:
    body = prepared.body
    if body is None:
        return http.build_request(
            prepared.method, prepared.url, headers=prepared.headers, timeout=timeout
        )
    if body.files is not None:
        return http.build_request(
            prepared.method,
            prepared.url,
            headers=prepared.headers,
            files=body.files,
            timeout=timeout,
        )
    content = body.content if body.content is not None else body.stream
    return http.build_request(
        prepared.method, prepared.url, headers=prepared.headers, content=content, timeout=timeout
    )


def _tls_failure(exc: BaseException) -> str | None:
    """The TLS reason if a transport error was a failed handshake (retrying cannot help)."""
    import ssl

    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return getattr(seen, "reason", None) or type(seen).__name__
        seen = seen.__cause__ or seen.__context__
    return None


def _failure(exc: Exception, request: httpx.Request) -> tuple[APIConnectionError, bool, str | None]:
    """The SDK error for a transport failure, whether the connection never opened, TLS reason."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        never_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        return APITimeoutError(request=request), never_sent, None
    where = f"{request.url.scheme}://{request.url.host}:{request.url.port}{request.url.path}"
    tls = _tls_failure(exc)
    if tls is not None:
        message = (
            f"TLS handshake with {where} failed ({tls}); check ca_file / ca_pem, the client "
            "certificate settings, or verify"
        )
    else:
        message = f"connection error ({type(exc).__name__}): {request.method} {where}"
    return (
        APIConnectionError(request=request, message=message),
        isinstance(exc, httpx.ConnectError),
        tls,
    )


def _failed(exc: Exception, request: httpx.Request) -> Failed:
    """The outcome of an attempt that raised a transport error."""
    error, connect_failed, tls = _failure(exc, request)
    error.__cause__ = exc
    error.__suppress_context__ = True
    return Failed(error, connect_failed, tls)


def _send_policy(
    client: BaseClient, op: Operation[Any], request: httpx.Request
) -> tuple[Callable[[int, httpx.Response | Failed], Retry | None], Callable[[Retry], None]]:
    """The judge of one API call's attempts (``retries.should_retry``), and its retry log line.

    A response under 400 and a decision not to retry stop the loop: the caller then raises the
    error for the status, or the transport error.
    """
    log = client._logger  # pyright: ignore[reportPrivateUsage]
    debug = log.isEnabledFor(10)

    def judge(retries: int, outcome: httpx.Response | Failed) -> Retry | None:
        if isinstance(outcome, Failed):
            status, headers = None, None
        elif outcome.status_code < 400:
            return None
        else:
            status, headers = outcome.status_code, outcome.headers
        decision = should_retry(
            method=op.method,
            status_code=status,
            headers=headers,
            request_headers=request.headers,
            retries_done=retries,
            max_retries=client._max_retries,  # pyright: ignore[reportPrivateUsage]
            connect_failed=isinstance(outcome, Failed) and outcome.connect_failed,
            idempotent=op.idempotent,
            tls_error=outcome.tls_error if isinstance(outcome, Failed) else None,
        )
        if debug:
            if isinstance(outcome, Failed):
                cause = type(outcome.error.__cause__).__name__
                log.debug("%s: %s: %s", op.operation_id, cause, decision.reason)
            else:
                log.debug("%s: %s", op.operation_id, decision.reason)
        if not decision.retry:
            return None
        policy = client._retry_policy  # pyright: ignore[reportPrivateUsage]
        delay, source = retry_delay_seconds(retries, headers, policy)
        return Retry(delay, source)

    def on_retry(step: Retry) -> None:
        if debug:
            log.debug(
                "%s: retrying in %.3f s (%s)", op.operation_id, step.delay_seconds, step.reason
            )

    return judge, on_retry


def _make_sync(kwargs: dict[str, Any]) -> httpx.Client:
    import httpx

    return httpx.Client(**kwargs)


def _make_async(kwargs: dict[str, Any]) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(**kwargs)


class SyncAPIClient(BaseClient):
    """The synchronous client; generated ``Client`` classes subclass it and set ``sdk_info``."""

    def _http(self) -> httpx.Client:
        shared = self._shared
        http: httpx.Client = shared.http if shared.ready else self._ensure_transport(_make_sync)
        return http

    def _send(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> httpx.Response:
        import httpx

        http = self._http()
        auth = self._shared.auth if op.security != () else None
        prepared = self._prepare(op, params, body, options)
        request = _build(http, prepared, _timeout_arg(options.timeout, self._timeout_override))
        debug = self._logger.isEnabledFor(10)
        attempts = itertools.count(1)

        def attempt() -> httpx.Response | Failed:
            started = time.perf_counter() if debug else 0.0
            if debug:
                self._log_request(prepared, next(attempts))
            try:
                response = http.send(request, auth=auth)
            except httpx.TransportError as exc:
                return _failed(exc, request)
            if debug:
                self._log_response(prepared, response, (time.perf_counter() - started) * 1000)
            return response

        judge, on_retry = _send_policy(self, op, request)
        return run_sync(attempt, judge, on_retry)

    def request(
        self,
        op: Operation[T],
        params: Mapping[str, object],
        body: object = NOT_GIVEN,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: JsonBody | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        consistency: Consistency | None = None,
    ) -> T:
        """Call an operation and return its typed result.

        Args:
            op: the operation.
            params: parameter values by wire name (``NOT_GIVEN`` values are left out).
            body: the request body.
            extra_headers: headers for this call (override the client's).
            extra_query: query parameters for this call.
            extra_body: top-level fields merged into the JSON body.
            timeout: seconds, an ``httpx.Timeout``, or ``None`` to disable; default: the client's.
            consistency: wait until the result is consistent (eventually consistent operations).

        Raises:
            APIStatusError: a non-2xx response (the subclass for its status).
            APIConnectionError: no response after the retries.
            APIResponseValidationError: the success body does not match the declared type.
        """
        options = CallOptions(extra_headers, extra_query, extra_body, timeout)

        def once() -> T:
            response = self._send(op, params, body, options)
            if response.status_code >= 300:
                raise error_for(op, response)
            return parse_success(op, response)

        if consistency is not None:
            return poll_sync(op.operation_id, op.method, once, consistency, self._logger)
        return once()

    def request_raw(
        self,
        op: Operation[T],
        params: Mapping[str, object],
        body: object = NOT_GIVEN,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: JsonBody | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> RawResponse[T]:
        """Like ``request`` but returns status, headers and the typed body together."""
        options = CallOptions(extra_headers, extra_query, extra_body, timeout)
        response = self._send(op, params, body, options)
        if response.status_code >= 300:
            raise error_for(op, response)
        return RawResponse(response, parse_success(op, response))

    def paginate(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object = NOT_GIVEN,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: JsonBody | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> SyncPager[Any, Any]:
        """A pager over every page and item of a paginated operation (nothing is sent yet)."""
        from .pagination import SyncPager

        options = CallOptions(extra_headers, extra_query, extra_body, timeout)
        return SyncPager(self, op, params, body, options)

    def close(self) -> None:
        """Close the connection pool (if the client created it) and the token client."""
        shared = self._shared
        if shared.ready and shared.owns_http:
            shared.http.close()
        close = getattr(shared.auth, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAPIClient(BaseClient):
    """The asyncio client; generated ``AsyncClient`` classes subclass it and set ``sdk_info``."""

    def _http(self) -> httpx.AsyncClient:
        shared = self._shared
        http: httpx.AsyncClient = (
            shared.http if shared.ready else self._ensure_transport(_make_async)
        )
        return http

    async def _send(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> httpx.Response:
        import httpx

        http = self._http()
        auth = self._shared.auth if op.security != () else None
        prepared = self._prepare(op, params, body, options)
        request = _build(http, prepared, _timeout_arg(options.timeout, self._timeout_override))
        debug = self._logger.isEnabledFor(10)
        attempts = itertools.count(1)

        async def attempt() -> httpx.Response | Failed:
            started = time.perf_counter() if debug else 0.0
            if debug:
                self._log_request(prepared, next(attempts))
            try:
                response = await http.send(request, auth=auth)
            except httpx.TransportError as exc:
                return _failed(exc, request)
            if debug:
                self._log_response(prepared, response, (time.perf_counter() - started) * 1000)
            return response

        judge, on_retry = _send_policy(self, op, request)
        return await run_async(attempt, judge, on_retry)

    async def request(
        self,
        op: Operation[T],
        params: Mapping[str, object],
        body: object = NOT_GIVEN,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: JsonBody | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        consistency: Consistency | None = None,
    ) -> T:
        """Call an operation and return its typed result (see ``SyncAPIClient.request``)."""
        options = CallOptions(extra_headers, extra_query, extra_body, timeout)

        async def once() -> T:
            response = await self._send(op, params, body, options)
            if response.status_code >= 300:
                raise error_for(op, response)
            return parse_success(op, response)

        if consistency is not None:
            return await poll_async(op.operation_id, op.method, once, consistency, self._logger)
        return await once()

    async def request_raw(
        self,
        op: Operation[T],
        params: Mapping[str, object],
        body: object = NOT_GIVEN,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: JsonBody | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> RawResponse[T]:
        """Like ``request`` but returns status, headers and the typed body together."""
        options = CallOptions(extra_headers, extra_query, extra_body, timeout)
        response = await self._send(op, params, body, options)
        if response.status_code >= 300:
            raise error_for(op, response)
        return RawResponse(response, parse_success(op, response))

    def paginate(
        self,
        op: Operation[Any],
        params: Mapping[str, object],
        body: object = NOT_GIVEN,
        *,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        extra_body: JsonBody | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
    ) -> AsyncPager[Any, Any]:
        """An async pager over every page and item (``async for``); nothing is sent yet."""
        from .pagination import AsyncPager

        options = CallOptions(extra_headers, extra_query, extra_body, timeout)
        return AsyncPager(self, op, params, body, options)

    async def aclose(self) -> None:
        """Close the connection pool (if the client created it) and the token client."""
        shared = self._shared
        if shared.ready and shared.owns_http:
            await shared.http.aclose()
        close = getattr(shared.auth, "close", None)
        if callable(close):
            close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
