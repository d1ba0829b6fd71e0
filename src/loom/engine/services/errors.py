"""The errors services raise; the API turns each into an RFC 9457 problem."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a request, with the RFC 6901 pointer of the offending value."""

    pointer: str
    message: str
    code: str = "invalid"


class ServiceError(Exception):
    """Base of the service errors.

    Attributes:
        status: the HTTP status the API answers with.
        title: the problem's short title.
        detail: one sentence a user can act on.
        issues: individual problems (validation errors).
    """

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, issues: list[Issue] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.issues = issues or []


class NotFoundError(ServiceError):
    """The resource does not exist."""

    status = 404
    title = "Not found"


class ConflictError(ServiceError):
    """The resource is not in a state that allows the operation."""

    status = 409
    title = "Conflict"


class InvalidInputError(ServiceError):
    """The request is well-formed but its content is invalid."""

    status = 422
    title = "Invalid input"


class PreconditionFailedError(ServiceError):
    """The resource changed since the client read it (``If-Match`` names an older version)."""

    status = 412
    title = "Precondition failed"
