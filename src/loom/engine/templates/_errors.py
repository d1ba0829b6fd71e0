"""The one error of the template language."""

from __future__ import annotations

__all__ = ["TemplateError"]


class TemplateError(ValueError):
    """A template cannot be parsed or evaluated (syntax, unknown name, bound exceeded...).

    Attributes:
        message: what went wrong, for the user.
        pointer: the JSON pointer of the templated value when known (``/params/url``).
    """

    def __init__(self, message: str, *, pointer: str = "") -> None:
        self.message = message
        self.pointer = pointer
        super().__init__(f"{pointer}: {message}" if pointer else message)

    def at(self, pointer: str) -> TemplateError:
        """The same error, located at ``pointer`` (an already located error keeps its own)."""
        if self.pointer:
            return self
        return TemplateError(self.message, pointer=pointer)
