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

import contextlib
import datetime as dt
import enum
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from loom.codegen.config import load_config
from loom.codegen.diagnostics import DiagnosticSink
from loom.codegen.ir.build import build_api
from loom.codegen.ir.model import Api, Operation, TypeRef
from loom.codegen.sources import load_document
from tests.e2e.conftest import CAMUNDA_CONFIG, CAMUNDA_SPEC, CamundaUnderTest
from tests.e2e.minimal_args import SchemaSampler, UnsatisfiableSchemaError, operation_args
from tests.e2e.prism import verdict

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("camunda_prism")]

ASYNC_SAMPLE_SIZE = 20
TOKEN = "contract-test-token"  # a dummy bearer token: Prism checks only that one is sent


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

_ACCEPT_BUG = (
    "runtime bug: every request sends `Accept: application/json` (BaseClient._base_headers), so "
    "operations that answer text/xml or application/octet-stream get 406 Not Acceptable"
)
# Bugs in the generated SDK or its runtime that this test found and that are not fixed yet;
# strict xfail, so the test reports when a fix lands.
KNOWN_SDK_BUGS: dict[str, str] = {
    "getDecisionDefinitionXML": _ACCEPT_BUG,
    "getDecisionRequirementsXML": _ACCEPT_BUG,
    "getProcessDefinitionXML": _ACCEPT_BUG,
    "getDocument": _ACCEPT_BUG,
    "searchElementInstanceWaitStates": (
        "runtime/generator: a discriminated oneOf (WaitStateDetails) fails the whole response when "
        "the discriminator value is unknown (Prism sends waitStateType='string'; a newer server "
        "would send a new wait-state type); an unknown tag should not break parsing"
    ),
}


def _collect_api() -> Api:
    sink = DiagnosticSink()
    document = load_document(CAMUNDA_SPEC, sink=sink).document
    return build_api(document, load_config(CAMUNDA_CONFIG), sink)


@dataclass(frozen=True)
class Case:
    """One operation as the test names it: ``resource_attr.method`` and its operation id."""

    attr: str
    method: str
    operation_id: str

    @property
    def python_name(self) -> str:
        """The name in ``loom-manifest.json``."""
        return f"{self.attr}.{self.method}"


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


# -- building the call ------------------------------------------------------------------------


def _ir_operation(api: Api, case: Case) -> Operation:
    for resource in api.resources:
        if resource.attr == case.attr:
            for op in resource.operations:
                if op.operation_id == case.operation_id:
                    return op
    raise AssertionError(f"{case.python_name} is not in the generated SDK's IR")


def _kwargs(
    camunda: CamundaUnderTest,
    op: Operation,
    *,
    with_optional_body: bool,
    strict: bool = True,
) -> dict[str, Any]:
    """Keyword arguments of the generated method: minimal params, the body, ``Prefer``."""
    sampler = SchemaSampler(camunda.document, strict_one_of=strict)
    args = operation_args(camunda.document, op.pointer, sampler=sampler)
    kwargs: dict[str, Any] = {}
    for param in op.params:
        key = (param.location, param.wire)
        if key in args.params:
            kwargs[param.name] = args.params[key]
        else:
            assert not param.required, f"no value built for required parameter {param.wire}"
    if op.body is not None and args.body is not None and (args.body_required or with_optional_body):
        body = args.body
        if op.body.type.kind == "model" and op.body.content_type == "application/json":
            # Go through the typed model: it must accept a valid payload and dump it unchanged.
            model = getattr(camunda.module("models"), op.body.type.name)
            body = model.model_validate(body)
        kwargs["body"] = body
    kwargs["extra_headers"] = {"Prefer": f"code={op.success_statuses[0]}"}
    return kwargs


# -- checking the outcome ---------------------------------------------------------------------


@dataclass
class Outcome:
    """One call's response and what the SDK made of it."""

    status_code: int
    headers: Any
    content: bytes
    request: Any
    value: Any = None
    error: Exception | None = None


def _describe(outcome: Outcome) -> str:
    request = outcome.request
    try:
        body = request.content[:600]
    except Exception:  # a streamed (multipart) request body that httpx did not keep
        body = b"<streamed>"
    return (
        f"{request.method} {request.url} body={body!r} -> {outcome.status_code} "
        f"{outcome.content[:600]!r}"
    )


def _alias_target(api: Api, name: str) -> TypeRef | None:
    return next((a.target for a in api.aliases if a.name == name), None)


def conformity_problem(value: Any, t: TypeRef, camunda: CamundaUnderTest) -> str | None:
    """Why ``value`` is not an instance of the IR type ``t`` (``None`` when it is)."""
    if value is None:
        return None if t.nullable or t.kind in ("any", "none") else f"None for {t.kind} {t.name}"
    kind = t.kind
    simple: dict[str, type | tuple[type, ...]] = {
        "str": str,
        "semantic": str,
        "bytes": bytes,
        "file": bytes,
        "bool": bool,
        "float": (int, float),
        "datetime": dt.datetime,
        "date": dt.date,
        "time": dt.time,
        "uuid": uuid.UUID,
    }
    if kind == "any":
        return None
    if kind == "none":
        return f"{value!r} where nothing was declared"
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{value!r} is not an int"
    if kind in simple:
        return None if isinstance(value, simple[kind]) else f"{value!r} is not {kind}"
    if kind in ("model", "enum"):
        cls = getattr(camunda.module("models"), t.name)
        if isinstance(value, cls):
            return None
        if kind == "enum" and isinstance(value, str | int) and not isinstance(value, enum.Enum):
            return None  # open enums keep values they do not know
        return f"{type(value).__name__} is not {t.name}"
    if kind == "alias":
        target = _alias_target(camunda.api, t.name)
        return None if target is None else conformity_problem(value, target, camunda)
    if kind == "literal":
        return None if value in t.values else f"{value!r} not in {t.values}"
    if kind == "list":
        if not isinstance(value, list):
            return f"{type(value).__name__} is not a list"
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        problems = [conformity_problem(v, t.args[0], camunda) for v in items]
        return next((p for p in problems if p is not None), None)
    if kind == "dict":
        if not isinstance(value, dict):
            return f"{type(value).__name__} is not a dict"
        mapping: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        problems = [conformity_problem(v, t.args[0], camunda) for v in mapping.values()]
        return next((p for p in problems if p is not None), None)
    if kind == "union":
        if any(conformity_problem(value, member, camunda) is None for member in t.args):
            return None
        return f"{type(value).__name__} matches no member of the union"
    return f"unknown IR type kind {kind}"


def _declared_error(op: Operation, status: int) -> TypeRef | None:
    declared = dict(op.errors)
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in declared:
            return declared[key]
    return None


def assert_contract(camunda: CamundaUnderTest, op: Operation, outcome: Outcome) -> None:
    """No Prism rejection, and the body parsed into the declared success or error type."""
    seen = verdict(outcome.status_code, outcome.headers, outcome.content)
    assert not seen.rejected, (
        f"Prism rejected {op.operation_id}:\n  "
        + "\n  ".join(seen.reasons)
        + f"\n{_describe(outcome)}"
    )
    if outcome.error is None:
        assert outcome.status_code in op.success_statuses, _describe(outcome)
        if op.response_kind == "bytes":
            problem = None if isinstance(outcome.value, bytes) else "not bytes"
        elif op.response_kind == "text":
            problem = None if isinstance(outcome.value, str) else "not str"
        elif op.response_kind == "none" or outcome.status_code == 204:
            problem = None if outcome.value is None else f"{outcome.value!r} for no content"
        else:
            problem = conformity_problem(outcome.value, op.response, camunda)
        assert problem is None, f"{op.operation_id}: success body: {problem}\n{_describe(outcome)}"
        return
    declared = _declared_error(op, outcome.status_code)
    assert declared is not None, (
        f"{op.operation_id}: {outcome.status_code} is not a declared response\n{_describe(outcome)}"
    )
    body = getattr(outcome.error, "body", None)
    problem = conformity_problem(body, declared, camunda)
    assert problem is None, f"{op.operation_id}: error body: {problem}\n{_describe(outcome)}"


# -- calling ----------------------------------------------------------------------------------


def _client(camunda: CamundaUnderTest, *, asynchronous: bool) -> Any:
    cls = getattr(camunda.package, "AsyncClient" if asynchronous else "Client")
    return cls(base_url=camunda.base_url, token=TOKEN, max_retries=0, timeout=30.0, env_file=False)


@pytest.fixture(scope="module")
def sync_client(camunda: CamundaUnderTest) -> Iterator[Any]:
    """One sync client for all calls (its connection pool is reused)."""
    client = _client(camunda, asynchronous=False)
    yield client
    client.close()


def _outcome_of_error(exc: Any) -> Outcome:
    response = exc.response
    return Outcome(exc.status_code, response.headers, response.content, response.request, error=exc)


def _deprecation(op: Operation) -> contextlib.AbstractContextManager[object]:
    """Deprecated operations must warn when called; the others run as they are."""
    if op.deprecated:
        return pytest.warns(DeprecationWarning, match=op.operation_id)
    return contextlib.nullcontext()


def call_sync(
    camunda: CamundaUnderTest, client: Any, case: Case, kwargs: dict[str, Any]
) -> Outcome:
    """Call the raw-response twin of the method; return what came back."""
    api_status_error = camunda.module("errors").APIStatusError
    method = getattr(getattr(client, case.attr).with_raw_response, case.method)
    try:
        with _deprecation(_ir_operation(camunda.api, case)):
            raw = method(**kwargs)
    except api_status_error as exc:
        return _outcome_of_error(exc)
    http = raw.http_response
    return Outcome(raw.status_code, raw.headers, http.content, http.request, value=raw.parsed)


@pytest.mark.parametrize("case", _params(CASES))
def test_operation_is_accepted_and_parsed_when_called_sync_with_minimal_args(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    op = _ir_operation(camunda.api, case)
    expected = EXPECTED_REJECTIONS.get(case.operation_id)
    if expected is not None:
        _check_expected_rejection(camunda, sync_client, case, op, expected)
        return
    kwargs = _kwargs(camunda, op, with_optional_body=True)
    outcome = call_sync(camunda, sync_client, case, kwargs)
    assert_contract(camunda, op, outcome)
    _assert_json_body_sent(camunda, op, kwargs, outcome)

    # The plain method, as users call it: the same value (Prism's answers are deterministic
    # with static examples), or the same error.
    plain = getattr(getattr(sync_client, case.attr), case.method)
    with _deprecation(op):
        if outcome.error is None:
            assert plain(**kwargs) == outcome.value
        else:
            with pytest.raises(type(outcome.error)):
                plain(**kwargs)


def _assert_json_body_sent(
    camunda: CamundaUnderTest, op: Operation, kwargs: dict[str, Any], outcome: Outcome
) -> None:
    """A JSON body reaches the wire exactly as the schema-built payload (aliases, enums…)."""
    if op.body is None or "body" not in kwargs or op.body.content_type != "application/json":
        return
    args = operation_args(camunda.document, op.pointer)
    assert json.loads(outcome.request.content) == args.body


def _check_expected_rejection(
    camunda: CamundaUnderTest, client: Any, case: Case, op: Operation, expected: ExpectedRejection
) -> None:
    if expected.unsatisfiable:
        with pytest.raises(UnsatisfiableSchemaError, match="oneOf"):
            _kwargs(camunda, op, with_optional_body=True)
    kwargs = _kwargs(camunda, op, with_optional_body=True, strict=not expected.unsatisfiable)
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


@pytest.mark.parametrize("case", _params(ASYNC_CASES))
async def test_operation_is_accepted_and_parsed_when_called_async_with_minimal_args(
    camunda: CamundaUnderTest, case: Case
) -> None:
    op = _ir_operation(camunda.api, case)
    kwargs = _kwargs(camunda, op, with_optional_body=False)
    api_status_error = camunda.module("errors").APIStatusError
    client = _client(camunda, asynchronous=True)
    try:
        resource = getattr(client, case.attr)
        try:
            with _deprecation(op):
                raw = await getattr(resource.with_raw_response, case.method)(**kwargs)
        except api_status_error as exc:
            outcome = _outcome_of_error(exc)
        else:
            http = raw.http_response
            outcome = Outcome(
                raw.status_code, raw.headers, http.content, http.request, value=raw.parsed
            )
        assert_contract(camunda, op, outcome)
        if outcome.error is None:
            with _deprecation(op):
                assert await getattr(resource, case.method)(**kwargs) == outcome.value
    finally:
        await client.aclose()


ERROR_ACCEPT = "application/json, application/problem+json"


def _first_declared_error(op: Operation) -> int | None:
    return next((int(key) for key, _ in op.errors if key.isdigit()), None)


ERROR_CASES = [
    c
    for c in CASES[1 :: max(1, len(CASES) // ASYNC_SAMPLE_SIZE)][:ASYNC_SAMPLE_SIZE]
    if c.operation_id not in EXPECTED_REJECTIONS
    and c.operation_id not in KNOWN_SDK_BUGS
    and _first_declared_error(_ir_operation(_API, c)) is not None
]


@pytest.mark.parametrize("case", _params(ERROR_CASES))
def test_declared_error_is_raised_and_parsed_when_prism_mocks_it(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    op = _ir_operation(camunda.api, case)
    status = _first_declared_error(op)
    assert status is not None
    kwargs = _kwargs(camunda, op, with_optional_body=True)
    # The Accept header is set here because the SDK's default leaves out the error media type
    # (see test_error_media_type_is_acceptable_when_the_sdk_sends_its_default_accept_header).
    kwargs["extra_headers"] = {"Prefer": f"code={status}", "Accept": ERROR_ACCEPT}
    outcome = call_sync(camunda, sync_client, case, kwargs)
    assert outcome.error is not None, f"{case.operation_id}: no error for {status}"
    assert outcome.status_code == status, _describe(outcome)
    runtime_errors = camunda.module("_runtime.errors")
    assert type(outcome.error) is runtime_errors.status_error_class(status)
    assert_contract(camunda, op, outcome)


@pytest.mark.xfail(
    strict=True,
    reason="runtime bug: the default `Accept: application/json` leaves out "
    "application/problem+json, the media type of every Camunda error, so a server that "
    "negotiates (Prism does) cannot send the declared error",
)
def test_error_media_type_is_acceptable_when_the_sdk_sends_its_default_accept_header(
    camunda: CamundaUnderTest, sync_client: Any
) -> None:
    errors = camunda.module("errors")
    with pytest.raises(errors.NotFoundError) as caught:
        sync_client.decision_definition.get(
            decision_definition_key="1", extra_headers={"Prefer": "code=404"}
        )
    assert type(caught.value.body).__name__ == "ProblemDetail"


PAGED_CASES = [c for c in CASES if _ir_operation(_API, c).pagination is not None]
MAX_PAGED_ITEMS = 1000


@pytest.mark.parametrize("case", _params(PAGED_CASES))
def test_every_item_is_typed_when_a_paginated_operation_is_iterated(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    op = _ir_operation(camunda.api, case)
    assert op.pagination is not None
    kwargs = _kwargs(camunda, op, with_optional_body=True)
    pager = getattr(getattr(sync_client, case.attr), f"{case.method}_all")(**kwargs)
    api_status_error = camunda.module("errors").APIStatusError
    items: list[Any] = []
    try:
        with _deprecation(op):
            for item in pager:
                items.append(item)
                assert len(items) <= MAX_PAGED_ITEMS, f"{case.operation_id}: the pager never stops"
    except api_status_error as exc:
        # The next page is asked for with the cursor in the body's `page` object, which Prism
        # cannot accept (see _SEARCH_PAGE); check that the request is right otherwise.
        outcome = _outcome_of_error(exc)
        seen = verdict(outcome.status_code, outcome.headers, outcome.content)
        _assert_only(_SEARCH_PAGE, seen.reasons, case.operation_id)
        page = json.loads(outcome.request.content)["page"]
        assert set(page) <= {"after", "limit"}, page
        assert isinstance(page["after"], str), page
    with _deprecation(op):
        first = getattr(getattr(sync_client, case.attr), case.method)(**kwargs)
    first_page = first.model_dump(by_alias=True)[op.pagination.items_field]
    assert len(items) >= len(first_page), f"{case.operation_id}: the pager lost items"
    problems = [conformity_problem(i, op.pagination.item_type, camunda) for i in items]
    assert [p for p in problems if p is not None] == []


def test_basic_credentials_are_accepted_when_the_operation_allows_basic_auth(
    camunda: CamundaUnderTest,
) -> None:
    client = camunda.package.Client(
        base_url=camunda.base_url, username="demo", password="demo", max_retries=0, env_file=False
    )
    with client:
        raw = client.cluster.with_raw_response.get_topology()
    assert raw.request.headers["authorization"].startswith("Basic ")
    assert not verdict(raw.status_code, raw.headers, raw.http_response.content).rejected


def test_prism_rejection_is_detected_when_credentials_are_missing(
    camunda: CamundaUnderTest,
) -> None:
    # Guards the contract test: without credentials Prism refuses a secured operation.
    errors = camunda.module("errors")
    client = camunda.package.Client(base_url=camunda.base_url, max_retries=0, env_file=False)
    with client, pytest.raises(errors.AuthenticationError) as caught:
        client.cluster.get_topology()
    outcome = _outcome_of_error(caught.value)
    seen = verdict(outcome.status_code, outcome.headers, outcome.content)
    assert seen.rejected
    # The schema declares a 401, so Prism mocks it and lists the violation in sl-violations.
    assert seen.reasons == ("request: 401: Invalid security scheme used",)


def test_unsecured_operation_is_accepted_when_the_client_has_no_credentials(
    camunda: CamundaUnderTest,
) -> None:
    client = camunda.package.Client(base_url=camunda.base_url, max_retries=0, env_file=False)
    with client:
        raw = client.license.with_raw_response.get()
    assert "authorization" not in raw.request.headers
    assert not verdict(raw.status_code, raw.headers, raw.http_response.content).rejected


FILLED_LEVELS = 2
FILLED_CASES = [
    c
    for c in CASES
    if (body := _ir_operation(_API, c).body) is not None
    and body.content_type == "application/json"
    and c.operation_id not in EXPECTED_REJECTIONS
]


@pytest.mark.parametrize("case", _params(FILLED_CASES))
def test_optional_body_fields_reach_the_wire_when_the_body_is_filled(
    camunda: CamundaUnderTest, sync_client: Any, case: Case
) -> None:
    # Minimal bodies leave most model fields unset; this sends the optional ones too
    # (FILLED_LEVELS deep) through the typed model, and Prism must still accept them.
    op = _ir_operation(camunda.api, case)
    assert op.body is not None
    kwargs = _kwargs(camunda, op, with_optional_body=True)
    sampler = SchemaSampler(camunda.document)
    media = f"{op.pointer}/requestBody/content/application~1json"
    wire = sampler.sample(
        sampler.lookup(media).get("schema", {}), where=media, fill_optional=FILLED_LEVELS
    )
    body: Any = wire
    if op.body.type.kind == "model":
        body = getattr(camunda.module("models"), op.body.type.name).model_validate(wire)
    kwargs["body"] = body
    outcome = call_sync(camunda, sync_client, case, kwargs)
    assert_contract(camunda, op, outcome)
    assert json.loads(outcome.request.content) == wire
