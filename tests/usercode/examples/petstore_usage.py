"""User code against the petstore golden SDK (resources layout): every kind of operation."""

from __future__ import annotations

from typing import assert_type

from petstore import AsyncClient, Client, NotFoundError, RawResponse
from petstore.models import Cat, NewPet, NewPetKind, NewPetParam, Pet, PetPage, Problem, UploadPhotoResponse
from petstore.types import PetKey


def sync_calls(client: Client) -> None:
    # query, header and cookie parameters; a list response
    pets = client.pets.list(x_request_id="r-1", limit=5, tags=("a", "b"), session="s")
    assert_type(pets, list[Pet])
    for pet in pets:
        if isinstance(pet, Cat):
            print(pet.lives)

    # a JSON body: its fields are arguments; a nested object is the model or its TypedDict
    friend: NewPetParam = {"name": "Rex", "kind": "dog"}
    created = client.pets.create(name="Tom", kind=NewPetKind.CAT, friend=friend)
    client.pets.create(name="Tom", kind="cat", friend=NewPet(name="Rex", kind=NewPetKind.DOG))
    client.pets.create(name="Tom", kind="cat", age=None)  # None is sent as null
    assert_type(created, Pet)

    # a deepObject query parameter, as a TypedDict; a semantic id type
    page = client.pets.search(filter={"name": "Tom"}, ids=[1, 2], key=PetKey("k-1"))
    assert_type(page, PetPage)

    # path parameters; per-call options
    client.pets.get(1, timeout=2.5, extra_headers={"X-Trace": "1"}, extra_body=None)

    # multipart, raw bytes, a binary download, a form body with a text answer
    uploaded = client.files.upload_photo(3, body={"file": b"\x89PNG", "caption": "hi"})
    assert_type(uploaded, UploadPhotoResponse)
    client.files.put_raw(3, body=b"raw")
    assert_type(client.files.download_photo(3), bytes)
    assert_type(client.auth.login(body={"user": "u", "password": "p"}), str)

    # raw responses
    raw = client.pets.with_raw_response.get(1)
    assert_type(raw, RawResponse[Pet])
    print(raw.status_code, raw.headers["content-type"], raw.parsed)

    # errors carry the declared error body
    try:
        client.pets.get(404)
    except NotFoundError as exc:
        print(exc.status_code, exc.body)
        if isinstance(exc.body, Problem):
            print(exc.body.title)


async def async_calls(aclient: AsyncClient) -> None:
    pet = await aclient.pets.get(1)
    assert_type(pet, Pet)
    created = await aclient.pets.create(name="Tom", kind="cat")
    assert_type(created, Pet)
    raw = await aclient.pets.with_raw_response.create(name="Tom", kind="cat")
    assert_type(raw, RawResponse[Pet])
    assert_type(await aclient.files.download_photo(3), bytes)


def mistakes(client: Client, aclient: AsyncClient) -> None:
    # a wrong id type, a misspelt field, a missing required field, bad nested request shapes
    client.pets.search(key="k-1")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.pets.create(name="Tom", knd="cat")  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.pets.create(name="Tom")  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.pets.create(name="Tom", kind="cat", friend={"name": "Rex"})  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.pets.create(name="Tom", kind="cat", friend={"name": "Rex", "kind": "dog", "nam": 1})  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.pets.get("1")  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.pets.get(1, timout=2)  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.pets.with_raw_response.get("1")  # expect-error: pyright=reportArgumentType mypy=arg-type
    aclient.pets.get(1, x=1)  # expect-error: pyright=reportCallIssue mypy=call-arg,unused-coroutine
    client.pets.delete(1)  # expect-error: pyright=reportDeprecated
