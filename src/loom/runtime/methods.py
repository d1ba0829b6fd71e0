"""Typed views over generated methods: every operation is written once, as a sync method.

A generated method turns its arguments into ``(operation, params, body)`` and hands them to
``self._client.request`` (resources) or ``self.request`` (the flat layout's client). The other
ways to call it are descriptors over that one function, in the shape of openai-python's
``to_raw_response_wrapper``: the same function, bound to a receiver whose ``request`` does
something else::

    class Pets(SyncResource):
        def get(self, pet_id: int, **options: Unpack[RequestOptions]) -> Pet:
            return self._client.request(_GET_PET, {"petId": pet_id}, NOT_GIVEN, **options)

        list_all = pager(list, lambda page: page.items)        # SyncPager[PetPage, Pet]

    class AsyncPets(AsyncResource):
        get = async_method(Pets.get)                           # (...) -> Coroutine[..., Pet]

    class PetsWithRawResponse(RawView):
        get = raw_method(Pets.get)                             # (...) -> RawResponse[Pet]

- ``async_method``: bound to the async resource, whose client's ``request`` is a coroutine.
- ``raw_method`` / ``async_raw_method``: bound to a ``RawView``, whose ``request`` is the
  client's ``request_raw``.
- ``pager`` / ``async_pager``: bound to a receiver whose ``request`` is the client's
  ``paginate``.

Type checkers see the method's own parameters (a ``ParamSpec``) with the return type of the
view; ``help()`` shows the method's docstring. A view keeps the first signature of an
overloaded method only, so generated methods are never overloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from types import MethodType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    Self,
    TypedDict,
    TypeVar,
    overload,
)

from .types import NOT_GIVEN, Headers, JsonBody, NotGiven, Query, TimeoutLike

if TYPE_CHECKING:
    from .pagination import AsyncPager, SyncPager
    from .response import RawResponse

__all__ = [
    "RawView",
    "RequestOptions",
    "async_method",
    "async_pager",
    "async_raw_method",
    "body_from",
    "pager",
    "raw_method",
]

P = ParamSpec("P")
R = TypeVar("R")
ItemT = TypeVar("ItemT")


class RequestOptions(TypedDict, total=False):
    """Per-call options every method takes as keyword arguments (``**options``)."""

    extra_headers: Headers | None
    """Headers for this call (they override the client's)."""
    extra_query: Query | None
    """Query parameters added to this call."""
    extra_body: JsonBody | None
    """Top-level fields merged into the JSON body: the escape hatch for fields the schema lacks."""
    timeout: TimeoutLike | NotGiven
    """Seconds, an ``httpx.Timeout``, or ``None`` to disable; default: the client's."""


def body_from(whole: object, fields: dict[str, object], *, required: bool = False) -> object:
    """The request body of a call that takes the body's fields and, optionally, ``body=``.

    Args:
        whole: the ``body=`` argument (a model or its request shape), or ``NOT_GIVEN``.
        fields: the field arguments by wire name (``NOT_GIVEN`` values are left out).
        required: the operation requires a body (``{}`` is sent when nothing is given).

    Returns:
        ``whole`` when given; else the given fields; when neither, ``{}`` for a required body
        and ``NOT_GIVEN`` (no body) otherwise.

    Raises:
        TypeError: both ``body=`` and fields were given.
    """
    given = {k: v for k, v in fields.items() if not isinstance(v, NotGiven)}
    if isinstance(whole, NotGiven):
        return given if given or required else NOT_GIVEN
    if given:
        raise TypeError(
            "pass either body= or the body's fields, not both (fields given: "
            + ", ".join(sorted(given))
            + ")"
        )
    return whole


class _Receiver:
    """What a view binds the method to: ``request`` (flat layout) and ``_client.request``."""

    __slots__ = ("_client", "request")

    def __init__(self, request: Callable[..., Any]) -> None:
        self.request = request
        self._client = self


def _client_of(owner: object) -> Any:
    """The API client behind a resource, or the client itself (flat layout)."""
    return getattr(owner, "_client", owner)


def _without_consistency(send: Callable[..., Any], what: str) -> Callable[..., Any]:
    def call(*args: Any, consistency: object = None, **kwargs: Any) -> Any:
        if consistency is not None:
            raise TypeError(f"consistency= is not available with {what}")
        return send(*args, **kwargs)

    return call


class RawView:
    """The ``with_raw_response`` view of a resource or client: same methods, raw responses."""

    __slots__ = ("_client", "request")

    def __init__(self, owner: object) -> None:
        self.request = _without_consistency(_client_of(owner).request_raw, "raw responses")
        self._client = self


class _Method(Generic[P, R]):
    """A method of a view: the generated function, bound to the view's receiver."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__wrapped__ = func
        self.__doc__ = func.__doc__
        self.__name__ = getattr(func, "__name__", "method")

    def _bind(self, obj: object) -> Callable[..., Any]:
        return MethodType(self.__wrapped__, obj)

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: type[Any] | None = None) -> Callable[P, R]: ...
    def __get__(self, obj: object, owner: type[Any] | None = None) -> Any:
        if obj is None:
            return self
        return self._bind(obj)


class _PagerMethod(_Method[P, R]):
    def _bind(self, obj: object) -> Callable[..., Any]:
        paginate = _client_of(obj).paginate
        return MethodType(self.__wrapped__, _Receiver(_without_consistency(paginate, "pagers")))


def async_method(
    func: Callable[Concatenate[Any, P], R],
) -> _Method[P, Coroutine[Any, Any, R]]:
    """The asyncio twin of a generated method (bind it in the ``Async…`` class)."""
    return _Method(func)


def raw_method(func: Callable[Concatenate[Any, P], R]) -> _Method[P, RawResponse[R]]:
    """The raw-response twin of a generated method (bind it in a ``RawView``)."""
    return _Method(func)


def async_raw_method(
    func: Callable[Concatenate[Any, P], R],
) -> _Method[P, Coroutine[Any, Any, RawResponse[R]]]:
    """The asyncio raw-response twin of a generated method (bind it in a ``RawView``)."""
    return _Method(func)


def pager(
    func: Callable[Concatenate[Any, P], R],
    items: Callable[[R], Iterable[ItemT] | None],
) -> _Method[P, SyncPager[R, ItemT]]:
    """``foo_all``: a pager over every item of every page of ``foo``.

    Args:
        func: the paginated method.
        items: the page's items, for the type checker (the runtime reads the operation's
            ``Pagination.items_field``).
    """
    del items
    return _PagerMethod(func)


def async_pager(
    func: Callable[Concatenate[Any, P], R],
    items: Callable[[R], Iterable[ItemT] | None],
) -> _Method[P, AsyncPager[R, ItemT]]:
    """The asyncio ``foo_all`` (``async for item in ...``)."""
    del items
    return _PagerMethod(func)
