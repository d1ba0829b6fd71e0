"""User code against the petstore golden SDK in the flat layout, with per-operation errors."""

from __future__ import annotations

from typing import assert_type

from petstore_flat import AsyncClient, Client, RawResponse
from petstore_flat.errors import CreatePetBadRequestError, GetPetNotFoundError, NotFoundError
from petstore_flat.models import NewPetParam, Pet, PetPage
from petstore_flat.types import PetKey


def sync_calls(client: Client) -> None:
    pets = client.list_pets(x_request_id="r-1", status="available")
    assert_type(pets, list[Pet])
    friend: NewPetParam = {"name": "Rex", "kind": "dog", "status": None}
    assert_type(client.create_pet(name="Tom", kind="cat", friend=friend), Pet)
    assert_type(client.search_pets(key=PetKey("k"), words=["a"]), PetPage)
    raw = client.with_raw_response.get_pet(1, timeout=None)
    assert_type(raw, RawResponse[Pet])
    assert_type(client.download_photo(1), bytes)
    try:
        client.get_pet(2)
    except GetPetNotFoundError as exc:
        assert isinstance(exc, NotFoundError)
        print(exc.body)
    except CreatePetBadRequestError:
        raise


async def async_calls(aclient: AsyncClient) -> None:
    assert_type(await aclient.get_pet(1), Pet)
    assert_type(await aclient.with_raw_response.search_pets(), RawResponse[PetPage])


def mistakes(client: Client) -> None:
    client.search_pets(key="k")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.create_pet(nme="Tom", kind="cat")  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.create_pet(kind="cat")  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.list_pets(x_request_id="r", status="lost")  # expect-error: pyright=reportArgumentType mypy=arg-type
