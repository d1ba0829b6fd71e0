"""Base classes for generated models and enums.

Responses keep what the SDK does not know: unknown fields land in ``model_extra`` and unknown
enum values become pseudo-members instead of raising, so a server newer than the SDK never breaks
a client. Requests are dumped by wire name with unset fields left out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar, Self, cast

import pydantic
from pydantic import ConfigDict, Discriminator
from typing_extensions import override


class BaseModel(pydantic.BaseModel):
    """Base of every generated model.

    Fields declare ``validation_alias``/``serialization_alias`` (not ``alias``) so that type
    checkers accept the Python names in constructors; the config validates by either name and
    serialises by alias. ``defer_build`` keeps import cheap: a validator is built on first use.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="allow",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        defer_build=True,
        populate_by_name=True,
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        use_enum_values=False,
        regex_engine="python-re",
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: aliases as keys, unset fields left out, JSON-compatible values."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def to_json(self) -> str:
        """The wire form as a JSON string."""
        return self.model_dump_json(by_alias=True, exclude_unset=True)


class OpenStrEnum(str, enum.Enum):
    """A string enum that accepts values it does not list (as ``UNKNOWN_<value>`` members)."""

    @classmethod
    @override
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, str):
            return None
        member: Self = _unknown_member(cls, value, str.__new__(cls, value))
        return member

    @override
    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """False for a value that the schema did not list."""
        return self._name_ in type(self).__members__


class OpenIntEnum(int, enum.Enum):
    """An integer enum that accepts values it does not list."""

    @classmethod
    @override
    def _missing_(cls, value: object) -> Self | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        member: Self = _unknown_member(cls, value, int.__new__(cls, value))
        return member

    @property
    def is_known(self) -> bool:
        """False for a value that the schema did not list."""
        return self._name_ in type(self).__members__


def _unknown_member(cls: type[Any], value: object, pseudo: Any) -> Any:
    cache: dict[object, Any] = cls.__dict__.get("_loom_unknown_") or {}
    if value in cache:
        return cache[value]
    pseudo._name_ = f"UNKNOWN_{value}"
    pseudo._value_ = value
    cache[value] = pseudo
    type.__setattr__(cls, "_loom_unknown_", cache)
    return pseudo


UNKNOWN_TAG = "__unknown__"


class UnknownVariant(BaseModel):
    """A member of a discriminated union that this SDK does not know (a newer server's).

    Every field the server sent is kept in ``model_extra``; generated unions list this class
    last, so an unknown discriminator value parses instead of failing the whole response.
    """


def discriminated(prop: str, tags: Mapping[str, str]) -> Discriminator:
    """A pydantic discriminator for a ``oneOf`` with ``discriminator.propertyName`` ``prop``.

    ``tags`` maps every wire value of the property to the ``Tag`` of its member. Works on raw
    mappings (responses) and on model instances (requests built by the user), whatever the
    Python name of the property is. A value not in ``tags`` (or no value) selects
    ``UNKNOWN_TAG``, the ``UnknownVariant`` member.
    """

    def pick(value: Any) -> str | None:
        if isinstance(value, Mapping):
            raw = cast(Mapping[str, Any], value).get(prop)
        elif isinstance(value, pydantic.BaseModel):
            raw = None
            for name, info in type(value).model_fields.items():
                if (info.serialization_alias or info.alias or name) == prop:
                    raw = getattr(value, name)
                    break
        else:
            return None
        if isinstance(raw, enum.Enum):
            raw = raw.value
        if raw is None:
            return UNKNOWN_TAG
        return tags.get(str(raw), UNKNOWN_TAG)

    return Discriminator(pick)
