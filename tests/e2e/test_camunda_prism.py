"""Contract test: every operation of the generated Camunda SDK, called against Prism.

Prism serves the same schema with request validation on. Each operation is called with
minimal valid arguments (``minimal_args``), once through ``with_raw_response`` (to read the
status and Prism's ``sl-violations`` header) and once through the plain method (what users
call). No request may be rejected by Prism, and every response must parse: a success into
the declared type, a mocked error into the declared error model. ``Prefer: code=<2xx>``
asks Prism for the operation's first declared success status.

All calls are sync; a fixed sample of about 20 operations is also called through the async
client, with optional bodies left out.
"""

from __future__ import annotations

import asyncio
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest

from loom.codegen.config import load_config
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.ir.model import Api, Operation
from loom.codegen.render.methods import field_arguments, option_arguments
from loom.codegen.render.params import request_shapes
from loom.codegen.sources import load_document
from tests.e2e.conftest import CAMUNDA_CONFIG, CAMUNDA_SPEC, CamundaUnderTest
from tests.e2e.contract import (
    Case,
    Outcome,
    assert_contract,
    call_kwargs,
    call_sync,
    conformity_problem,
    deprecation,
    describe,
    ir_operation,
    make_client,
    outcome_of_error,
)
from tests.e2e.minimal_args import SchemaSampler, UnsatisfiableSchemaError, operation_args
from tests.e2e.prism import verdict

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("camunda_prism")]

ASYNC_SAMPLE_SIZE = 20


@dataclass(frozen=True)
class ExpectedRejection:
    """An operation that no client can get past Prism, and the only complaint allowed.

    Attributes:
        reason: why (a defect in the schema or a limitation of Prism).
        violation: text every one of Prism's complaints must contain.
        unsatisfiable: strict argument building must fail too (the schema admits no value);
            the call then uses a best-effort value.
    """

    reason: str
    violation: str
    unsatisfiable: bool = False


_RESOURCE_KEY = ExpectedRejection(
    "schema defect: ResourceKey is a oneOf of four schemas that are all LongKey, so every key "
    "matches all four and none matches exactly one",
    r": oneOf:",
    unsatisfiable=True,
)
_MULTIPART_ARRAY = ExpectedRejection(
    "Prism limitation: Prism 5.16 reads repeated multipart parts as one value, so an array field "
    "never validates (stoplightio/prism PR #2654, open); the SDK repeats the part as OpenAPI says",
    r"^request\.body\.\w+: type: Request body property \w+ must be array",
)
_SEARCH_PAGE = ExpectedRejection(
    "schema defect: SearchQueryPageRequest is a oneOf of four page shapes with no required "
    "property, so every page object matches several and none matches exactly one",
    # ajv also reports the parent's additionalProperties when the `page` branch fails.
    r"(body\.page: oneOf:|additionalProperties: .* found 'page')",
)
# Each entry is checked: Prism must reject the call, and for that reason only. When the schema
# or Prism is fixed the check fails; then remove the entry.
EXPECTED_REJECTIONS: dict[str, ExpectedRejection] = {
    "getResource": _RESOURCE_KEY,
    "getResourceContent": _RESOURCE_KEY,
    "getResourceContentBinary": _RESOURCE_KEY,
    "deleteResource": _RESOURCE_KEY,
    "createDeployment": _MULTIPART_ARRAY,
    "createDocuments": _MULTIPART_ARRAY,
}

# Bugs in the generated SDK or its runtime that this test found and that are not fixed yet;
# strict xfail, so the test reports when a fix lands. (Fixed so far: the Accept header now lists
# each operation's declared media types; an unknown discriminator value parses as
# UnknownVariant.)
KNOWN_SDK_BUGS: dict[str, str] = {}


def _collect_api() -> Api:
    sink = DiagnosticSink()
    document = load_document(CAMUNDA_SPEC, sink=sink).document
    return build_api(document, load_config(CAMUNDA_CONFIG), sink)


def _params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            c,
            id=c.python_name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_SDK_BUGS[c.operation_id])]
            if c.operation_id in KNOWN_SDK_BUGS
            else [],
        )
        for c in cases
    ]


_API = _collect_api()
CASES = [
    Case(r.attr, op.method_name, op.operation_id) for r in _API.resources for op in r.operations
]
ASYNC_CASES = [
    c
    for c in CASES[:: max(1, len(CASES) // ASYNC_SAMPLE_SIZE)][:ASYNC_SAMPLE_SIZE]
    if c.operation_id not in EXPECTED_REJECTIONS
]


@pytest.fixture(scope="module")
def sync_client(camunda: CamundaUnderTest) -> Iterator[Any]:
    """One sync client for all calls (its connection pool is reused)."""
    client = make_client(camunda, asynchronous=False)
    yield client
    client.close()


@pytest.mark.parametrize("case", _params(CASES))
def test_operation_is_accepted_and_parsed_when_called_sync_with_minimal_args(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    op = ir_operation(camunda.api, case)
    expected = EXPECTED_REJECTIONS.get(case.operation_id)
    if expected is not None:
        _check_expected_rejection(camunda, sync_client, case, op, expected)
        return
    kwargs = call_kwargs(camunda, op, with_optional_body=True)
    outcome = call_sync(camunda, sync_client, case, kwargs)
    assert_contract(camunda, op, outcome)
    _assert_json_body_sent(camunda, op, kwargs, outcome)

    # The plain method, as users call it: the same value (Prism's answers are deterministic
    # with static examples), or the same error.
    plain = getattr(getattr(sync_client, case.attr), case.method)
    with deprecation(op):
        if outcome.error is None:
            assert plain(**kwargs) == outcome.value
        else:
            with pytest.raises(type(outcome.error)):
                plain(**kwargs)


def _assert_json_body_sent(
    camunda: CamundaUnderTest, op: Operation, kwargs: dict[str, Any], outcome: Outcome
) -> None:
    """A JSON body reaches the wire exactly as the schema-built payload (aliases, enums…)."""
    if op.body is None or op.body.content_type != "application/json":
        return
    if "body" not in kwargs and field_arguments(op, request_shapes(camunda.api), "fields") is None:
        return
    args = operation_args(camunda.document, op.pointer)
    if not outcome.request.content:
        # an optional body whose fields were all left out is not sent (body_from -> NOT_GIVEN)
        assert args.body == {}
        assert "body" not in kwargs
        assert not op.body.required
        return
    assert json.loads(outcome.request.content) == args.body


def _check_expected_rejection(
    camunda: CamundaUnderTest, client: Any, case: Case, op: Operation, expected: ExpectedRejection
) -> None:
    if expected.unsatisfiable:
        with pytest.raises(UnsatisfiableSchemaError, match="oneOf"):
            call_kwargs(camunda, op, with_optional_body=True)
    kwargs = call_kwargs(camunda, op, with_optional_body=True, strict=not expected.unsatisfiable)
    outcome = call_sync(camunda, client, case, kwargs)
    seen = verdict(outcome.status_code, outcome.headers, outcome.content)
    assert seen.rejected, f"{case.operation_id} is accepted now ({expected.reason}); remove it"
    _assert_only(expected, seen.reasons, case.operation_id)


def _assert_only(expected: ExpectedRejection, reasons: tuple[str, ...], op_id: str) -> None:
    """Prism's detailed complaints (not its summary line) are all the expected one."""
    detailed = [r for r in reasons if not re.match(r"\d{3} ", r)]
    assert detailed, reasons
    unexpected = [r for r in detailed if not re.search(expected.violation, r)]
    assert not unexpected, f"{op_id}: more than {expected.reason}: {unexpected}"


async def _call_async(
    camunda: CamundaUnderTest, client: Any, case: Case, kwargs: dict[str, Any]
) -> Outcome:
    api_status_error = camunda.module("errors").APIStatusError
    method = getattr(getattr(client, case.attr).with_raw_response, case.method)
    try:
        raw = await method(**kwargs)
    except api_status_error as exc:
        return outcome_of_error(exc)
    http = raw.http_response
    return Outcome(raw.status_code, raw.headers, http.content, http.request, value=raw.parsed)


@pytest.mark.parametrize("case", _params(ASYNC_CASES))
async def test_operation_is_accepted_and_parsed_when_called_async_with_minimal_args(
    camunda: CamundaUnderTest, case: Case
) -> None:
    op = ir_operation(camunda.api, case)
    kwargs = call_kwargs(camunda, op, with_optional_body=False)
    client = make_client(camunda, asynchronous=True)
    try:
        with deprecation(op):
            outcome = await _call_async(camunda, client, case, kwargs)
        assert_contract(camunda, op, outcome)
        if outcome.error is None:
            with deprecation(op):
                plain = getattr(getattr(client, case.attr), case.method)
                assert await plain(**kwargs) == outcome.value
    finally:
        await client.aclose()


async def test_sample_is_accepted_and_parsed_when_called_concurrently_on_one_async_client(
    camunda: CamundaUnderTest,
) -> None:
    # One client, its transport created by whichever task comes first, every call in flight.
    cases = [c for c in ASYNC_CASES if c.operation_id not in KNOWN_SDK_BUGS]
    ops = [ir_operation(camunda.api, c) for c in cases]
    client = make_client(camunda, asynchronous=True)
    try:
        with warnings.catch_warnings():
            # pytest.warns cannot tell concurrent tasks apart; deprecation is checked above.
            warnings.simplefilter("ignore", DeprecationWarning)
            outcomes = await asyncio.gather(
                *(
                    _call_async(
                        camunda, client, case, call_kwargs(camunda, op, with_optional_body=True)
                    )
                    for case, op in zip(cases, ops, strict=True)
                )
            )
    finally:
        await client.aclose()
    for op, outcome in zip(ops, outcomes, strict=True):
        assert_contract(camunda, op, outcome)


def _first_declared_error(op: Operation) -> int | None:
    return next((int(key) for key, _ in op.errors if key.isdigit()), None)


ERROR_CASES = [
    c
    for c in CASES[1 :: max(1, len(CASES) // ASYNC_SAMPLE_SIZE)][:ASYNC_SAMPLE_SIZE]
    if c.operation_id not in EXPECTED_REJECTIONS
    and c.operation_id not in KNOWN_SDK_BUGS
    and _first_declared_error(ir_operation(_API, c)) is not None
]


@pytest.mark.parametrize("case", _params(ERROR_CASES))
def test_declared_error_is_raised_and_parsed_when_prism_mocks_it(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    op = ir_operation(camunda.api, case)
    status = _first_declared_error(op)
    assert status is not None
    kwargs = call_kwargs(camunda, op, with_optional_body=True)
    key = option_arguments(op, request_shapes(camunda.api), "fields").get("extra_headers")
    kwargs[key or "extra_headers"] = {"Prefer": f"code={status}"}
    outcome = call_sync(camunda, sync_client, case, kwargs)
    assert outcome.error is not None, f"{case.operation_id}: no error for {status}"
    assert outcome.status_code == status, describe(outcome)
    runtime_errors = camunda.module("_runtime.errors")
    assert type(outcome.error) is runtime_errors.status_error_class(status)
    assert_contract(camunda, op, outcome)


def test_error_media_type_is_acceptable_when_the_sdk_sends_its_default_accept_header(
    camunda: CamundaUnderTest, sync_client: Any
) -> None:
    errors = camunda.module("errors")
    with pytest.raises(errors.NotFoundError) as caught:
        sync_client.decision_definition.get(
            decision_definition_key="1", extra_headers={"Prefer": "code=404"}
        )
    assert type(caught.value.body).__name__ == "ProblemDetail"


PAGED_CASES = [c for c in CASES if ir_operation(_API, c).pagination is not None]
MAX_PAGED_ITEMS = 1000


@pytest.mark.parametrize("case", _params(PAGED_CASES))
def test_every_item_is_typed_when_a_paginated_operation_is_iterated(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    op = ir_operation(camunda.api, case)
    assert op.pagination is not None
    kwargs = call_kwargs(camunda, op, with_optional_body=True)
    pager = getattr(getattr(sync_client, case.attr), f"{case.method}_all")(**kwargs)
    api_status_error = camunda.module("errors").APIStatusError
    items: list[Any] = []
    try:
        with deprecation(op):
            for item in pager:
                items.append(item)
                assert len(items) <= MAX_PAGED_ITEMS, f"{case.operation_id}: the pager never stops"
    except api_status_error as exc:
        # The next page is asked for with the cursor in the body's `page` object, which Prism
        # cannot accept (see _SEARCH_PAGE); check that the request is right otherwise.
        outcome = outcome_of_error(exc)
        seen = verdict(outcome.status_code, outcome.headers, outcome.content)
        _assert_only(_SEARCH_PAGE, seen.reasons, case.operation_id)
        page = json.loads(outcome.request.content)["page"]
        assert set(page) <= {"after", "limit"}, page
        assert isinstance(page["after"], str), page
    with deprecation(op):
        first = getattr(getattr(sync_client, case.attr), case.method)(**kwargs)
    first_page = first.model_dump(by_alias=True)[op.pagination.items_field]
    assert len(items) >= len(first_page), f"{case.operation_id}: the pager lost items"
    problems = [conformity_problem(i, op.pagination.item_type, camunda) for i in items]
    assert [p for p in problems if p is not None] == []


def test_basic_credentials_are_accepted_when_the_operation_allows_basic_auth(
    camunda: CamundaUnderTest,
) -> None:
    client = camunda.client(username="demo", password="demo")
    with client:
        raw = client.cluster.with_raw_response.get_topology()
    assert raw.request.headers["authorization"].startswith("Basic ")
    assert not verdict(raw.status_code, raw.headers, raw.http_response.content).rejected


def test_prism_rejection_is_detected_when_credentials_are_missing(
    camunda: CamundaUnderTest,
) -> None:
    # Guards the contract test: without credentials Prism refuses a secured operation.
    errors = camunda.module("errors")
    client = camunda.client()
    with client, pytest.raises(errors.AuthenticationError) as caught:
        client.cluster.get_topology()
    outcome = outcome_of_error(caught.value)
    seen = verdict(outcome.status_code, outcome.headers, outcome.content)
    assert seen.rejected
    # The schema declares a 401, so Prism mocks it and lists the violation in sl-violations.
    assert seen.reasons == ("request: 401: Invalid security scheme used",)


def test_unsecured_operation_is_accepted_when_the_client_has_no_credentials(
    camunda: CamundaUnderTest,
) -> None:
    client = camunda.client()
    with client:
        raw = client.license.with_raw_response.get()
    assert "authorization" not in raw.request.headers
    assert not verdict(raw.status_code, raw.headers, raw.http_response.content).rejected


FILLED_LEVELS = 2
FILLED_CASES = [
    c
    for c in CASES
    if (body := ir_operation(_API, c).body) is not None
    and body.content_type == "application/json"
    and c.operation_id not in EXPECTED_REJECTIONS
]


@pytest.mark.parametrize("case", _params(FILLED_CASES))
def test_optional_body_fields_reach_the_wire_when_the_body_is_filled(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    # Minimal bodies leave most model fields unset; this sends the optional ones too
    # (FILLED_LEVELS deep) through the typed model, and Prism must still accept them.
    op = ir_operation(camunda.api, case)
    assert op.body is not None
    kwargs = call_kwargs(camunda, op, with_optional_body=True)
    sampler = SchemaSampler(camunda.document)
    media = f"{op.pointer}/requestBody/content/application~1json"
    wire = sampler.sample(
        sampler.lookup(media).get("schema", {}), where=media, fill_optional=FILLED_LEVELS
    )
    fields = field_arguments(op, request_shapes(camunda.api), "fields")
    if fields is not None and isinstance(wire, dict):
        # the body's fields are the method's arguments: every filled field is passed
        filled: dict[str, Any] = cast(dict[str, Any], wire)
        for _, name in fields:
            kwargs.pop(name, None)
        kwargs.update((name, filled[f.wire]) for f, name in fields if f.wire in filled)
    else:
        body: Any = wire
        if op.body.type.kind == "model":
            body = getattr(camunda.module("models"), op.body.type.name).model_validate(wire)
        kwargs["body"] = body
    outcome = call_sync(camunda, sync_client, case, kwargs)
    assert_contract(camunda, op, outcome)
    assert json.loads(outcome.request.content) == wire
