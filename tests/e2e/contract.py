"""Calling one operation of the generated SDK against Prism and judging the exchange.

``call_kwargs`` turns minimal arguments (``minimal_args``) into the generated method's keyword
arguments; ``call_sync`` calls its raw-response twin; ``assert_contract`` checks that Prism did
not reject the request and that the body parsed into the declared success or error type.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any, cast

import pytest

from loom.codegen.ir.model import Api, Operation, TypeRef
from loom.codegen.render.methods import field_arguments, option_arguments
from loom.codegen.render.params import request_shapes
from tests.e2e.conftest import CamundaUnderTest
from tests.e2e.minimal_args import SchemaSampler, operation_args
from tests.e2e.prism import verdict

TOKEN = "contract-test-token"  # a dummy bearer token: Prism checks only that one is sent


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


# -- building the call ------------------------------------------------------------------------


def ir_operation(api: Api, case: Case) -> Operation:
    """The IR operation a case names (it must exist in the generated SDK)."""
    for resource in api.resources:
        if resource.attr == case.attr:
            for op in resource.operations:
                if op.operation_id == case.operation_id:
                    return op
    raise AssertionError(f"{case.python_name} is not in the generated SDK's IR")


def call_kwargs(
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
    shapes = request_shapes(camunda.api)
    fields = field_arguments(op, shapes, "fields")
    if op.body is not None and args.body is not None and (args.body_required or with_optional_body):
        body = args.body
        if fields is not None and isinstance(body, dict):
            # The body's fields as the method's arguments; nested objects as plain dicts (their
            # TypedDict request shapes).
            payload: dict[str, Any] = cast(dict[str, Any], body)
            kwargs.update((name, payload[f.wire]) for f, name in fields if f.wire in payload)
        else:
            if op.body.type.kind == "model" and op.body.content_type == "application/json":
                # Go through the typed model: it must accept a valid payload and dump it unchanged.
                model = getattr(camunda.module("models"), op.body.type.name)
                body = model.model_validate(body)
            kwargs["body"] = body
    renamed = option_arguments(op, shapes, "fields")
    kwargs[renamed.get("extra_headers", "extra_headers")] = {
        "Prefer": f"code={op.success_statuses[0]}"
    }
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


def describe(outcome: Outcome) -> str:
    request = outcome.request
    try:
        body = request.content[:600]
    except Exception:  # a streamed (multipart) request body that httpx did not keep
        body = b"<streamed>"
    return (
        f"{request.method} {request.url} body={body!r} -> {outcome.status_code} "
        f"{outcome.content[:600]!r}"
    )


def alias_target(api: Api, name: str) -> TypeRef | None:
    """The type a named alias stands for, if the IR has it."""
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
        target = alias_target(camunda.api, t.name)
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


def declared_error(op: Operation, status: int) -> TypeRef | None:
    """The declared error type for a status: exact, then ``4XX``, then ``default``."""
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
        + f"\n{describe(outcome)}"
    )
    if outcome.error is None:
        assert outcome.status_code in op.success_statuses, describe(outcome)
        if op.response_kind == "bytes":
            problem = None if isinstance(outcome.value, bytes) else "not bytes"
        elif op.response_kind == "text":
            problem = None if isinstance(outcome.value, str) else "not str"
        elif op.response_kind == "none" or outcome.status_code == 204:
            problem = None if outcome.value is None else f"{outcome.value!r} for no content"
        else:
            problem = conformity_problem(outcome.value, op.response, camunda)
        assert problem is None, f"{op.operation_id}: success body: {problem}\n{describe(outcome)}"
        return
    declared = declared_error(op, outcome.status_code)
    assert declared is not None, (
        f"{op.operation_id}: {outcome.status_code} is not a declared response\n{describe(outcome)}"
    )
    body = getattr(outcome.error, "body", None)
    problem = conformity_problem(body, declared, camunda)
    assert problem is None, f"{op.operation_id}: error body: {problem}\n{describe(outcome)}"


# -- calling ----------------------------------------------------------------------------------


def make_client(camunda: CamundaUnderTest, *, asynchronous: bool) -> Any:
    """A client of the SDK pointed at Prism with bearer credentials and no retries."""
    return camunda.client(asynchronous=asynchronous, token=TOKEN, timeout=30.0)


def outcome_of_error(exc: Any) -> Outcome:
    """The outcome an ``APIStatusError`` stands for."""
    response = exc.response
    return Outcome(exc.status_code, response.headers, response.content, response.request, error=exc)


def deprecation(op: Operation) -> contextlib.AbstractContextManager[object]:
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
        with deprecation(ir_operation(camunda.api, case)):
            raw = method(**kwargs)
    except api_status_error as exc:
        return outcome_of_error(exc)
    http = raw.http_response
    return Outcome(raw.status_code, raw.headers, http.content, http.request, value=raw.parsed)
