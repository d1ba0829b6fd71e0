"""What a handler raises to decide its job's outcome, and registration errors.

::

    BusinessError        → throw error (the process routes it by ``code``)
    JobFailure           → fail with the given retries and back-off
    any other Exception  → fail with retries - 1 and the exception's type and text
    RegistrationError    a handler that cannot be called as registered (raised at start-up)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["BusinessError", "JobFailure", "RegistrationError"]


class BusinessError(Exception):
    """A business outcome that the process models (Camunda's "throw error", BPMN error events).

    Args:
        code: the error code the process catches.
        message: a sentence for operators.
        variables: variables sent with the error.
    """

    def __init__(
        self, code: str, message: str = "", variables: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses the process pool intact (Exception pickles only ``args`` by default).
        return (type(self), (self.code, self.message, self.variables))


class JobFailure(Exception):
    """A technical failure with an explicit retry decision.

    Args:
        message: the error message stored on the job (keep secrets out of it).
        retries: retries left after this failure; ``None`` means the job's retries - 1.
        retry_backoff_seconds: how long the server waits before the next attempt.
        variables: variables stored with the failure.
    """

    def __init__(
        self,
        message: str,
        *,
        retries: int | None = None,
        retry_backoff_seconds: float = 0.0,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retries = retries
        self.retry_backoff_seconds = retry_backoff_seconds
        self.variables = dict(variables) if variables else None

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _job_failure,
            (self.message, self.retries, self.retry_backoff_seconds, self.variables),
        )


def _job_failure(
    message: str, retries: int | None, backoff: float, variables: Mapping[str, Any] | None
) -> JobFailure:
    return JobFailure(message, retries=retries, retry_backoff_seconds=backoff, variables=variables)


class RegistrationError(TypeError):
    """A handler cannot be registered as written; the message names the handler and the fix."""
