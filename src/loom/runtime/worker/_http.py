"""What the HTTP adapters share: one httpx client, and statuses mapped to the core's exceptions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..retries import parse_retry_after
from .job import AdapterError, Backpressure, JobLost, ServerUnavailable

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpAdapterBase"]

#: Added to a long-poll's request timeout for the client's read timeout.
READ_MARGIN_SECONDS = 10.0


class HttpAdapterBase:
    """An httpx ``AsyncClient`` (given, or created on first use) and status handling.

    Args:
        base_url: the API's base URL (``…/v2`` for Camunda, the server root for Conductor).
        client: your own ``httpx.AsyncClient`` (its base URL is not changed; it is not closed).
        auth: an ``httpx.Auth`` for the client created here (e.g. the SDK's OAuth flow).
        headers: extra headers on every request.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client
        self._owns_client = client is None
        self._auth = auth
        # Sent on every request, also through a client given by the caller.
        self._headers = dict(headers or {})

    def client(self) -> httpx.AsyncClient:
        """The httpx client (created on first use)."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                auth=self._auth,
                timeout=httpx.Timeout(30.0, connect=5.0),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            )
        return self._client

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        read_timeout_seconds: float | None = None,
        job_command: bool = False,
        accept: str = "application/json",
    ) -> httpx.Response:
        """Send one request; map transport errors and error statuses to the core's exceptions.

        Args:
            method: the HTTP method.
            path: the path below ``base_url``.
            what: a few words for messages (``activate jobs``, ``complete job 42``).
            json_body: the JSON body, if any.
            params: the query, if any.
            read_timeout_seconds: the read timeout of a long-poll.
            job_command: 404 and 409 mean the job is gone (``JobLost``).
            accept: the ``Accept`` header (what the operation's success response declares).

        Raises:
            Backpressure: 429 or 503.
            ServerUnavailable: the connection failed or timed out, or 502/504.
            JobLost: 404/409 answering a job command.
            AdapterError: any other error status (the message has the problem's detail).
        """
        import httpx

        client = self.client()
        timeout: Any = httpx.USE_CLIENT_DEFAULT
        if read_timeout_seconds is not None:
            timeout = httpx.Timeout(read_timeout_seconds + READ_MARGIN_SECONDS, connect=5.0)
        url = f"{self.base_url}{path}"
        try:
            response = await client.request(
                method,
                url,
                json=json_body,
                params=params,
                headers={**self._headers, "accept": accept},
                timeout=timeout,
            )
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status < 400:
            return response
        detail = _problem_detail(response)
        message = f"{what}: HTTP {status}{': ' + detail if detail else ''}"
        if status in (429, 503):
            delay = parse_retry_after(response.headers)
            raise Backpressure(message, retry_after_seconds=delay)
        if status in (502, 504):
            raise ServerUnavailable(message)
        if job_command and status in (404, 409):
            raise JobLost(message)
        raise AdapterError(message)

    async def aclose(self) -> None:
        """Close the client created here (a given client is left open)."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None


def _problem_detail(response: httpx.Response) -> str:
    """The ``title``/``detail`` of an RFC 9457 problem body, or the first 200 chars of text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:200]
    if isinstance(body, dict):
        problem: dict[str, Any] = body  # pyright: ignore[reportUnknownVariableType]
        parts = [str(problem[k]) for k in ("title", "detail") if problem.get(k)]
        return ": ".join(parts)[:500]
    return str(body)[:200]
