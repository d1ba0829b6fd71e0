"""Diagnostics: what the generator says about a schema, each with a JSON pointer.

A recoverable problem is recorded and generation goes on (the operation is skipped, the type
falls back to ``Any``); a fatal one raises ``FatalSchemaError``, which the CLI prints as one line.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class Severity(enum.Enum):
    """How bad a diagnostic is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One problem found in a schema.

    Attributes:
        pointer: RFC 6901 JSON pointer into the document (``#/paths/~1pets/get``); for a
            multi-file schema it is prefixed with the file (``pets.yaml#/components/...``).
        message: one sentence a user can act on.
        severity: how bad it is.
        code: a stable short identifier for grouping (``unsupported-type``, ``dangling-ref``).
    """

    pointer: str
    message: str
    severity: Severity = field(default=Severity.WARNING, compare=False)
    code: str = "schema"

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.pointer}: {self.message} [{self.code}]"


class FatalSchemaError(Exception):
    """A schema problem that stops generation: unreadable file, no ``paths``, dangling ``$ref``.

    ``str()`` gives the one line the CLI prints.
    """

    def __init__(self, message: str, *, pointer: str | None = None) -> None:
        self.pointer = pointer
        self.message = message
        super().__init__(f"{pointer}: {message}" if pointer else message)


@dataclass
class DiagnosticSink:
    """Collects diagnostics during one generation; deduplicates and keeps a stable order.

    ``translate``, when set, maps each pointer before it is recorded: a converted input (Swagger
    2.0) sets it so that diagnostics name places in the file the user wrote.
    """

    items: list[Diagnostic] = field(default_factory=list[Diagnostic])
    translate: Callable[[str], str] | None = None
    _seen: set[tuple[str, str, str]] = field(default_factory=set[tuple[str, str, str]])

    def add(
        self,
        pointer: str,
        message: str,
        *,
        code: str = "schema",
        severity: Severity = Severity.WARNING,
    ) -> None:
        """Record one diagnostic unless the same one was already recorded."""
        if self.translate is not None:
            pointer = self.translate(pointer)
        key = (pointer, message, code)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(Diagnostic(pointer, message, severity, code))

    def has(self, pointer: str, code: str) -> bool:
        """Whether a diagnostic with this code was recorded at ``pointer``."""
        return any(d.pointer == pointer and d.code == code for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in a deterministic order (by pointer, then message)."""
        return sorted(self.items)


def escape_pointer_token(token: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901 §3)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """Build ``#/a/b~1c`` from tokens."""
    return "#/" + "/".join(escape_pointer_token(str(t)) for t in tokens) if tokens else "#"
