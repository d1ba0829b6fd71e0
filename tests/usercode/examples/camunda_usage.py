"""User code against the Camunda 8 SDK (examples/camunda/loom.toml): the calls users make most."""

from __future__ import annotations

from typing import assert_type

from camunda_sdk import AsyncClient, Client, ConflictError, NotFoundError, RawResponse
from camunda_sdk.models import (
    CreateProcessInstanceResult,
    JobActivationResult,
    ProcessInstanceFilterParam,
    ProcessInstanceResult,
)
from camunda_sdk.types import JobKey, ProcessDefinitionId, ProcessDefinitionKey, ProcessInstanceKey


def sync_calls(client: Client) -> None:
    # a union body: each member's model or TypedDict
    started = client.process_instance.create(
        body={"processDefinitionId": ProcessDefinitionId("order-process"), "variables": {"id": 42}}
    )
    assert_type(started, CreateProcessInstanceResult)
    client.process_instance.create(body={"processDefinitionKey": ProcessDefinitionKey("225")})

    # search with typed filters; pagination over every page
    wanted: ProcessInstanceFilterParam = {"state": "ACTIVE", "processDefinitionId": "order-process"}
    page = client.process_instance.search(filter=wanted, page={"limit": 10})
    for found in page.items:
        assert_type(found, ProcessInstanceResult)
    for instance in client.process_instance.search_all(filter={"state": "COMPLETED"}):
        assert_type(instance.process_instance_key, ProcessInstanceKey)

    # the activation request's own timeout field; the HTTP timeout is call_timeout
    jobs = client.job.activate(type="payment", timeout=30_000, max_jobs_to_activate=5, call_timeout=40.0)
    assert_type(jobs, JobActivationResult)
    for job in jobs.jobs:
        client.job.complete(job.job_key, variables={"paid": True})
    client.job.fail(JobKey("2251799813685249"), retries=2, error_message="card declined")
    client.message.publish(name="paid", correlation_key="order-42", time_to_live=60_000)

    # raw responses and errors
    raw = client.process_instance.with_raw_response.get(started.process_instance_key)
    assert_type(raw, RawResponse[ProcessInstanceResult])
    print(raw.status_code, raw.headers["content-type"], raw.parsed.state)
    try:
        client.process_instance.cancel(started.process_instance_key)
    except (NotFoundError, ConflictError) as exc:
        print(exc.status_code, exc.body)


async def async_calls() -> None:
    async with AsyncClient() as aclient:
        topology = await aclient.cluster.get_topology()
        print(topology.brokers)
        async for instance in aclient.process_instance.search_all(filter={"state": "ACTIVE"}):
            print(instance.process_instance_key)


def mistakes(client: Client, key: ProcessInstanceKey) -> None:
    client.process_instance.get(JobKey("1"))  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.job.complete(key)  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.job.activate(type="payment", timeout=30_000)  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.job.activate(type="payment", timeout=1, max_jobs_to_activate=1, workr="w")  # expect-error: pyright=reportCallIssue mypy=call-arg
    client.process_instance.search(filter={"state": "RUNNING"})  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.process_instance.create(body={"processDefinitionId": "x"})  # expect-error: pyright=reportArgumentType mypy=arg-type
    client.process_instance.create(body={"processDefinitionID": ProcessDefinitionId("x")})  # expect-error: pyright=reportArgumentType mypy=arg-type
