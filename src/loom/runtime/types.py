"""Small types shared by the runtime and by generated SDKs.

Generated code imports these from ``._runtime.types``; nothing here imports httpx at run time,
so that ``import sdk; sdk.Client()`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, Final, Literal, TypeAlias, TypeVar, final

from typing_extensions import override

_T = TypeVar("_T")


@final
class NotGiven:
    """Sentinel that separates "argument omitted" from an explicit ``None``.

    ``None`` is a value that is sent (JSON ``null``); ``NOT_GIVEN`` means the key is left out.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    @override
    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

NotGivenOr: TypeAlias = "_T | NotGiven"

Headers: TypeAlias = Mapping[str, str]
"""Extra headers for one call; they override the client's."""

Query: TypeAlias = Mapping[str, object]
"""Extra query parameters for one call."""

JsonBody: TypeAlias = Mapping[str, object]
"""Extra top-level fields merged into a JSON request body for one call."""

FileContent: TypeAlias = IO[bytes] | bytes
"""What an upload accepts: raw bytes or a binary file object."""

FileTypes: TypeAlias = (
    FileContent
    | tuple[str | None, FileContent]
    | tuple[str | None, FileContent, str | None]
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
"""An upload: content, or ``(filename, content[, content_type[, headers]])`` as httpx takes it."""

TimeoutLike: TypeAlias = "float | Any | None"
"""Seconds as a float, an ``httpx.Timeout``, or ``None`` to disable the timeout for one call."""
